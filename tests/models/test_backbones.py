"""The block-insertion backbone with a SELFY block: ImageNet loading exactly as
ResNetTSM, identity at init, any depth / stage."""

import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmaction.models.backbones import ResNetTSM
from mmaction.registry import MODELS
from mmengine.runner.checkpoint import CheckpointLoader

from selfy_mmaction.models.backbones.resnet_blocks import ResNetTSMWithBlocks

# torchvision's ResNet layout, written from its definition (not from the
# backbone under test): depth -> (bottleneck?, blocks per stage)
TORCHVISION_LAYOUT = {
    18: (False, (2, 2, 2, 2)),
    34: (False, (3, 4, 6, 3)),
    50: (True, (3, 4, 6, 3)),
}
STAGE_CHANNELS = {
    18: (64, 128, 256, 512),
    34: (64, 128, 256, 512),
    50: (256, 512, 1024, 2048),
}


def torchvision_resnet_state_dict(depth, batches_tracked=True):
    """Random tensors under torchvision ResNet key names (fc included);
    ``batches_tracked=False`` mimics old files such as resnet50-19c8e357."""
    bottleneck, layers = TORCHVISION_LAYOUT[depth]
    expansion = 4 if bottleneck else 1
    sd = {}

    def conv(name, cout, cin, k):  # Kaiming scale: finite activations
        sd[name + '.weight'] = (
            torch.randn(cout, cin, k, k) * (2 / (cin * k * k)) ** 0.5
        )

    def bn(name, c):
        sd[name + '.weight'] = torch.rand(c) + 0.5
        sd[name + '.bias'] = torch.randn(c)
        sd[name + '.running_mean'] = torch.randn(c)
        sd[name + '.running_var'] = torch.rand(c) + 0.5
        if batches_tracked:
            sd[name + '.num_batches_tracked'] = torch.tensor(1234)

    conv('conv1', 64, 3, 7)
    bn('bn1', 64)
    inplanes = 64
    for i, blocks in enumerate(layers):
        planes = 64 * 2**i
        for b in range(blocks):
            p = f'layer{i + 1}.{b}'
            if bottleneck:
                convs = [
                    (planes, inplanes, 1),
                    (planes, planes, 3),
                    (planes * 4, planes, 1),
                ]
            else:
                convs = [(planes, inplanes, 3), (planes, planes, 3)]
            for k, (cout, cin, size) in enumerate(convs, 1):
                conv(f'{p}.conv{k}', cout, cin, size)
                bn(f'{p}.bn{k}', cout)
            if b == 0 and (i > 0 or inplanes != planes * expansion):
                conv(f'{p}.downsample.0', planes * expansion, inplanes, 1)
                bn(f'{p}.downsample.1', planes * expansion)
            inplanes = planes * expansion
    sd['fc.weight'] = torch.randn(1000, inplanes)
    sd['fc.bias'] = torch.randn(1000)
    return sd


def module_for_torchvision_key(backbone, key):
    """The backbone tensor a torchvision key must land in, found by walking
    the module tree (independent of MMAction2's key conversion)."""

    def unwrap(conv):
        while not isinstance(conv, nn.Conv2d):  # TemporalShift(.net)
            conv = conv.net
        return conv

    parts = key.split('.')
    attr = parts[-1]
    if parts[0] == 'conv1':
        return getattr(unwrap(backbone.conv1.conv), attr)
    if parts[0] == 'bn1':
        return getattr(backbone.conv1.bn, attr)
    block = getattr(backbone, parts[0])[int(parts[1])]
    name = parts[2]
    if name == 'downsample':
        module = (
            block.downsample.conv if parts[3] == '0' else block.downsample.bn
        )
        return getattr(unwrap(module) if parts[3] == '0' else module, attr)
    if name.startswith('conv'):
        return getattr(unwrap(getattr(block, name).conv), attr)
    if name.startswith('bn'):
        return getattr(getattr(block, 'conv' + name[2:]).bn, attr)
    raise KeyError(key)


def selfy_backbone(depth=50, layer='layer2', **kwargs):
    kwargs.setdefault('pretrained', None)
    kwargs.setdefault('pretrained2d', kwargs['pretrained'] is not None)
    return ResNetTSMWithBlocks(
        depth=depth,
        num_segments=8,
        blocks=[
            dict(
                cfg=dict(type='SELFYBlock'),
                position='after_stage',
                layers=(layer,),
            )
        ],
        **kwargs,
    )


def selfy_block(backbone, layer='layer2'):
    blocks = backbone.stage_blocks[layer]
    assert len(blocks) == 1
    assert type(blocks[0]) is MODELS.get('SELFYBlock')
    return blocks[0]


def zero_gamma_batchnorms(block):
    return [
        m
        for m in block.modules()
        if isinstance(m, nn.modules.batchnorm._BatchNorm)
        and m.weight is not None
        and not m.weight.detach().any()
    ]


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    """Fake torchvision checkpoints: {(depth, batches_tracked): (path,
    state dict)}."""
    root = tmp_path_factory.mktemp('tv')
    out = {}
    for depth, tracked in ((18, True), (18, False), (50, True)):
        torch.manual_seed(depth)
        sd = torchvision_resnet_state_dict(depth, tracked)
        path = osp.join(root, f'resnet{depth}_{tracked}.pth')
        torch.save(sd, path)
        out[depth, tracked] = (path, sd)
    return out


@pytest.mark.parametrize(
    'depth,tracked', [(18, True), (18, False), (50, True)]
)
def test_imagenet_weights_load_exactly(checkpoints, depth, tracked):
    path, sd = checkpoints[depth, tracked]
    backbone = selfy_backbone(depth, pretrained=path)
    backbone.init_weights()
    loaded = 0
    for key, value in sd.items():
        # MMAction2's conversion skips BN counters (not weights); fc is
        # ImageNet's classifier
        if key.startswith('fc.') or key.endswith('num_batches_tracked'):
            continue
        target = module_for_torchvision_key(backbone, key)
        assert torch.equal(target, value), key
        loaded += 1
    # nothing of the ResNet left out: every backbone weight outside the
    # inserted block came from the checkpoint
    resnet_keys = [
        k
        for k in backbone.state_dict()
        if not k.startswith('stage_blocks.')
        and not k.endswith('num_batches_tracked')
    ]
    assert loaded == len(resnet_keys)
    # the SELFY block starts as the identity: its last BN has gamma 0
    assert zero_gamma_batchnorms(selfy_block(backbone))


def test_torchvision_url_goes_through_the_same_loader(
    checkpoints, monkeypatch
):
    """``pretrained='torchvision://resnet50'`` is read by mmengine's
    torchvision loader (stubbed here: no download) and converted the same
    way as a local file."""
    path, sd = checkpoints[18, True]
    requested = []

    def fake_torchvision(filename, map_location=None):
        requested.append(filename)
        return {k: v.clone() for k, v in sd.items()}

    monkeypatch.setitem(
        CheckpointLoader._schemes, 'torchvision://', fake_torchvision
    )
    backbone = selfy_backbone(18, pretrained='torchvision://resnet18')
    backbone.init_weights()
    assert requested == ['torchvision://resnet18']
    for key in (
        'conv1.weight',
        'layer2.1.bn2.running_var',
        'layer4.0.downsample.0.weight',
        'layer3.1.conv1.weight',
    ):
        assert torch.equal(module_for_torchvision_key(backbone, key), sd[key])


def test_loaded_selfy_backbone_equals_plain_resnet_tsm(checkpoints):
    """With the same ImageNet weights, ResNetTSM + a fresh SELFY block gives
    exactly ResNetTSM's output (identity at init)."""
    path, _ = checkpoints[50, True]
    plain = ResNetTSM(depth=50, num_segments=8, pretrained=path)
    plain.init_weights()
    ours = selfy_backbone(50, pretrained=path)
    ours.init_weights()
    ours.eval()  # MMAction2's ResNet.train() returns None: no chaining
    plain.eval()
    x = torch.randn(8, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(ours(x), plain(x))


def test_missing_checkpoint_key_is_an_error(checkpoints, tmp_path):
    path, sd = checkpoints[18, True]
    broken = dict(sd)
    del broken['layer1.0.conv2.weight']
    bad = str(tmp_path / 'missing.pth')
    torch.save(broken, bad)
    backbone = selfy_backbone(18, pretrained=bad)
    with pytest.raises(RuntimeError, match=r'missing keys .*layer1\.0\.conv2'):
        backbone.init_weights()


def test_unexpected_checkpoint_key_is_an_error(checkpoints, tmp_path):
    path, sd = checkpoints[18, True]
    extra = dict(sd)
    extra['layer1.0.conv9.weight'] = torch.zeros(1)
    bad = str(tmp_path / 'extra.pth')
    torch.save(extra, bad)
    backbone = selfy_backbone(18, pretrained=bad)
    with pytest.raises(
        RuntimeError, match=r'unexpected keys .*layer1\.0\.conv9'
    ):
        backbone.init_weights()


def test_checkpoint_of_another_depth_is_an_error(checkpoints):
    path, _ = checkpoints[18, True]
    backbone = selfy_backbone(50, pretrained=path)
    with pytest.raises(RuntimeError, match='size mismatch'):
        backbone.init_weights()


def test_pretrained2d_without_pretrained_is_a_clear_error():
    backbone = selfy_backbone(18, pretrained=None, pretrained2d=True)
    with pytest.raises(ValueError, match='pretrained2d=False'):
        backbone.init_weights()


@pytest.mark.parametrize(
    'depth,layer',
    [
        (18, 'layer1'),
        (18, 'layer2'),
        (18, 'layer3'),
        (18, 'layer4'),
        (50, 'layer3'),
    ],
)
def test_selfy_after_any_stage_of_any_depth(depth, layer):
    """in_channels is filled in from the stage; from-scratch init keeps the
    block the identity (the ResNet init must not undo its zero gamma)."""
    torch.manual_seed(0)
    ours = selfy_backbone(depth, layer)
    ours.init_weights()
    block = selfy_block(ours, layer)
    channels = STAGE_CHANNELS[depth][int(layer[-1]) - 1]
    first_conv = next(m for m in block.modules() if isinstance(m, nn.Conv2d))
    assert first_conv.in_channels == channels
    assert zero_gamma_batchnorms(block)
    plain = ResNetTSM(depth=depth, num_segments=8, pretrained2d=False)
    missing, unexpected = plain.load_state_dict(ours.state_dict(), False)
    assert not missing
    assert all(k.startswith('stage_blocks.') for k in unexpected)
    ours.eval()
    plain.eval()
    x = torch.randn(8, 3, 64, 64)
    with torch.no_grad():
        out = ours(x)
        assert torch.equal(out, plain(x))
        # and it is not a no-op once its last BN is trained
        for bn in zero_gamma_batchnorms(block):
            bn.weight.data.fill_(1.0)
        assert not torch.equal(ours(x), out)


class _Silent:
    """A logger that keeps what it is told and passes nothing on."""

    def __init__(self):
        self.messages = []

    def info(self, msg):
        self.messages.append(msg)


def test_weight_check_reads_the_load_not_the_log(checkpoints, tmp_path):
    """The missing/unexpected check uses the load's own result: it holds
    whatever the logger does with ResNetTSM's message, and it reports the
    outcome itself."""
    path, sd = checkpoints[18, True]
    logger = _Silent()
    backbone = selfy_backbone(18, pretrained=path)
    backbone.load_original_weights(logger)
    assert any(
        'every ResNet-18 tensor loaded' in str(m) for m in logger.messages
    ), logger.messages
    # no post-hook left behind on the backbone
    assert not backbone._load_state_dict_post_hooks
    broken = {k: v for k, v in sd.items() if k != 'layer3.1.bn1.weight'}
    bad = str(tmp_path / 'broken.pth')
    torch.save(broken, bad)
    backbone = selfy_backbone(18, pretrained=bad)
    with pytest.raises(RuntimeError, match=r'missing keys .*layer3\.1\.conv1'):
        backbone.load_original_weights(_Silent())
