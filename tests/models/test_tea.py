import re

import pytest
import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from selfy_mmaction.models.blocks.tea import TEABottleneck, TEAMotionExcitation

CONFIG = (
    'configs/tea/tea_imagenet-pretrained-res2net50_8xb8-1x1x8-50e_sthv1-rgb.py'
)


def _randomise_bn(module):
    """Non-trivial BN statistics and affine parameters (eval-mode tests)."""
    for m in module.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)


def _bn(x, bn):
    return F.batch_norm(
        x,
        bn.running_mean,
        bn.running_var,
        bn.weight,
        bn.bias,
        training=False,
        eps=bn.eps,
    )


def _me_reference(me, x, t):
    """TEA's ME written out with loops over time (eval-mode BN)."""
    reduce, expand = me.difference.reduce, me.expand
    f = _bn(F.conv2d(x, reduce.conv.weight), reduce.bn)
    c = f.shape[1]
    g = F.conv2d(f, me.difference.neighbour_conv.weight, padding=1, groups=c)
    n = x.shape[0] // t
    f5, g5 = f.view(n, t, *f.shape[1:]), g.view(n, t, *g.shape[1:])
    d5 = torch.zeros_like(f5)
    for b in range(n):
        for i in range(t - 1):
            d5[b, i] = g5[b, i + 1] - f5[b, i]
    s = d5.view_as(f).mean(dim=(2, 3), keepdim=True)
    gate = torch.sigmoid(_bn(F.conv2d(s, expand.conv.weight), expand.bn))
    return x + x * (gate - 0.5)


def _half_shift_reference(x, t):
    """First C/2 channels read t+1, last C/2 read t-1, zero padded."""
    nt, c, h, w = x.shape
    x5 = x.view(nt // t, t, c, h, w)
    out = torch.zeros_like(x5)
    out[:, :-1, : c // 2] = x5[:, 1:, : c // 2]
    out[:, 1:, c // 2 :] = x5[:, :-1, c // 2 :]
    return out.view_as(x)


def _tea_block(inplanes, planes, stride, t, first):
    downsample = None
    if first:
        downsample = torch.nn.Sequential(
            torch.nn.Conv2d(inplanes, planes * 4, 1, stride, bias=False),
            torch.nn.BatchNorm2d(planes * 4),
        )
    block = TEABottleneck(
        inplanes,
        planes,
        stride,
        downsample=downsample,
        num_segments=t,
        me_reduction=4,
    )
    block.init_weights()
    _randomise_bn(block)
    return block.double().eval()


@pytest.mark.parametrize('t,hw', [(1, (5, 5)), (3, (6, 7)), (8, (4, 3))])
def test_me_matches_manual_loop(t, hw):
    me = TEAMotionExcitation(64, t, reduction=16)
    me.init_weights()
    _randomise_bn(me)
    me = me.double().eval()
    x = torch.randn(2 * t, 64, *hw, dtype=torch.float64)
    torch.testing.assert_close(
        me(x), _me_reference(me, x, t), rtol=0, atol=1e-12
    )


@pytest.mark.parametrize('first,stride', [(False, 1), (True, 1), (True, 2)])
def test_bottleneck_at_init_is_res2net_with_me_and_a_shifted_fragment(
    first, stride
):
    """Identity-initialised temporal convs on fragments 0-2 drop out; the last
    fragment is shifted (half t+1, half t-1), then pooled in a stage's first
    block. Written as a plain Res2Net forward (float64)."""
    t, planes = 4, 64  # width floor(64*26/64) = 26
    inplanes = 32 if first else 256
    block = _tea_block(inplanes, planes, stride, t, first)
    x = torch.randn(2 * t, inplanes, 9, 7, dtype=torch.float64)

    out = block.me(block.conv1(x))
    fragments = torch.split(out, 26, dim=1)
    outs = []
    for j in range(3):
        u = fragments[j] if (j == 0 or first) else fragments[j] + outs[-1]
        outs.append(block.convs[j](u))
    last = _half_shift_reference(fragments[3], t)
    if first:
        last = F.avg_pool2d(last, 3, stride, padding=1)
    identity = block.downsample(x) if first else x
    expected = F.relu(block.conv3(torch.cat(outs + [last], 1)) + identity)
    torch.testing.assert_close(block(x), expected, rtol=0, atol=1e-12)
    # learnable: a changed temporal kernel changes the output
    block.temporal_convs[0].weight.data[:, 0, 0] = 0.5
    assert not torch.allclose(block(x), expected)


def _stages(n):
    """Arguments for a backbone cut after ``n`` stages (fast tests)."""
    return dict(
        num_stages=n,
        out_indices=(n - 1,),
        strides=(1, 2, 2, 2)[:n],
        dilations=(1,) * n,
    )


def _backbone(t=4, **kwargs):
    backbone = MODELS.build(
        dict(type='TEARes2Net', depth=50, num_segments=t, **kwargs)
    )
    backbone.init_weights()
    return backbone


def test_backbone_shapes_widths_and_gradients():
    backbone = _backbone(t=3, out_indices=(0, 1, 2, 3))
    assert [b.width for b in backbone.layer1] == [26] * 3
    assert [b.width for b in backbone.layer4] == [208] * 3
    assert sum(isinstance(m, TEABottleneck) for m in backbone.modules()) == 16
    x = torch.randn(2 * 3, 3, 33, 47)
    outs = backbone(x)
    assert [tuple(o.shape) for o in outs] == [
        (6, 256, 9, 12),
        (6, 512, 5, 6),
        (6, 1024, 3, 3),
        (6, 2048, 2, 2),
    ]
    sum(o.square().mean() for o in outs).backward()
    for name, p in backbone.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


@pytest.mark.parametrize('t', [1, 5])
def test_backbone_other_segment_counts(t):
    backbone = _backbone(t=t, **_stages(2))
    assert backbone(torch.randn(2 * t, 3, 31, 30)).shape == (2 * t, 512, 4, 4)


def test_clear_errors():
    with pytest.raises(ValueError, match='not a multiple of num_segments=8'):
        _backbone(t=8, **_stages(1))(torch.randn(12, 3, 32, 32))
    with pytest.raises(KeyError, match='depth must be one of'):
        MODELS.build(dict(type='TEARes2Net', depth=34))
    with pytest.raises(TypeError, match='pretrained must be a path'):
        MODELS.build(dict(type='TEARes2Net', pretrained=True))
    with pytest.raises(ValueError, match='scale >= 2'):
        TEABottleneck(64, 64, scale=1)
    with pytest.raises(ValueError, match="style 'pytorch'"):
        TEABottleneck(64, 64, style='caffe')


def _res2net_keys(state_dict):
    """Our keys -> the official Res2Net layout (``conv1.conv.weight`` ->
    ``conv1.weight``, ``conv1.bn`` -> ``bn1``, ``convs.0.bn`` -> ``bns.0``,
    ``downsample.conv/bn`` -> ``downsample.0/1``), without TEA layers."""
    out = {}
    for key, value in state_dict.items():
        if (
            '.me.' in key
            or '.temporal_convs.' in key
            or key.endswith('num_batches_tracked')
        ):
            continue
        key = key.replace('downsample.conv.', 'downsample.0.')
        key = key.replace('downsample.bn.', 'downsample.1.')
        key = re.sub(r'conv(s?)(\.?\d*)\.bn\.', r'bn\1\2.', key)
        out[key.replace('.conv.', '.')] = value
    return out


def test_loads_official_res2net_checkpoint_and_reports_bad_keys(tmp_path):
    kwargs = dict(t=2, **_stages(2))
    source = _backbone(**kwargs)
    _randomise_bn(source)
    state = _res2net_keys(source.state_dict())
    assert {
        'bn1.weight',
        'layer1.0.bns.2.running_var',
        'layer2.0.convs.1.weight',
        'layer2.0.downsample.1.bias',
        'layer1.2.bn3.weight',
    } <= set(state)
    state['fc.weight'] = torch.zeros(10, 512)  # a classifier is ignored
    path = str(tmp_path / 'res2net.pth')
    torch.save(state, path)

    loaded = _backbone(pretrained=path, **kwargs)
    ours = loaded.state_dict()
    for key, value in source.state_dict().items():
        if '.me.' in key or '.temporal_convs.' in key:
            continue
        if not key.endswith('num_batches_tracked'):
            torch.testing.assert_close(ours[key], value, rtol=0, atol=0)
    # TEA layers are new: initialised, not copied
    me = loaded.layer1[0].me.expand.bn
    torch.testing.assert_close(me.weight, torch.ones_like(me.weight))

    del state['layer1.1.bns.0.running_mean']
    state['layer9.0.conv1.weight'] = torch.zeros(1)
    state['layer1.0.conv3.weight'] = torch.zeros(3, 3)
    torch.save(state, path)
    with pytest.raises(RuntimeError) as error:
        _backbone(pretrained=path, **kwargs)
    message = str(error.value)
    for part in (
        '1 missing keys',
        'layer1.1.bns.0.running_mean',
        'layer9.0.conv1.weight',
        'layer1.0.conv3.weight: checkpoint (3, 3)',
    ):
        assert part in message


def test_config_builds_and_runs_train_and_test_step():
    init_default_scope('mmaction')
    cfg = Config.fromfile(CONFIG)
    assert cfg.model.backbone.type == 'TEARes2Net'
    assert cfg.train_dataloader.dataset.pipeline[0].clip_len == 1
    t = 2  # fewer segments than the config's 8, to stay fast
    cfg.model.backbone.update(pretrained=None, num_segments=t)
    cfg.model.cls_head.num_segments = t
    model = MODELS.build(cfg.model)
    model.init_weights()
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    data = dict(
        inputs=[
            torch.randint(0, 256, (t, 3, 32, 32), dtype=torch.uint8)
            for _ in range(2)
        ],
        data_samples=[ActionDataSample().set_gt_label(i) for i in (3, 170)],
    )
    losses = model.train_step(data, optim)
    assert torch.isfinite(losses['loss_cls'])
    preds = model.test_step(data)
    assert len(preds) == 2 and preds[0].pred_score.shape == (174,)
    torch.testing.assert_close(preds[0].pred_score.sum(), torch.tensor(1.0))
