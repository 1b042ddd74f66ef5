import importlib.util
import os.path as osp

import pytest
import torch
from _official_selfy_reference import OfficialSELFYNet, randomize_
from mmaction.registry import MODELS
from mmengine.registry import init_default_scope

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'convert_official_selfy.py')
# the SELFY config the official weights are for (5 classes in these tests)
CONFIG = osp.join(
    REPO,
    'configs',
    'selfy',
    'selfy_imagenet-pretrained-r50_8xb8-1x1x8-50e_sthv1-rgb.py',
)
CLASSES = 'model.cls_head.num_classes=5'
spec = importlib.util.spec_from_file_location('convert_official_selfy', TOOL)
convert_tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(convert_tool)


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _save_official(path, num_classes=5, window=(5, 9, 9), **extra_keys):
    """An official SELFYNet with random weights and BN statistics, saved as
    the official main.py does (DataParallel keys)."""
    net = randomize_(
        OfficialSELFYNet(num_classes, 8, window),
        torch.Generator().manual_seed(0),
    ).eval()
    # a SELFY residual as large as the features it is added to (random
    # ResNet features after layer2 are ~100x larger than a unit BN output)
    with torch.no_grad():
        net.base_model.selfy.stss_integration.upsample[1].weight.mul_(100)
    state = {'module.' + k: v for k, v in net.state_dict().items()}
    state.update(extra_keys)
    torch.save(
        dict(epoch=42, arch='resnet50', state_dict=state, best_prec1=51.25),
        path,
    )
    return net, state


def test_round_trip_gives_the_same_logits(tmp_path):
    src, dst = (
        str(tmp_path / 'selfy_rgb_model_best.pth.tar'),
        str(tmp_path / 'converted.pth'),
    )
    official, _ = _save_official(src)
    assert convert_tool.main([src, dst, CONFIG, '--cfg-options', CLASSES]) == 0
    ckpt = torch.load(dst, map_location='cpu', weights_only=True)
    assert set(ckpt) == {'state_dict', 'meta'}
    meta = ckpt['meta']
    assert meta['official'] == dict(
        epoch=42, arch='resnet50', best_prec1=51.25
    )
    assert (meta['num_classes'], meta['window']) == (5, [5, 9, 9])
    assert meta['model']['backbone']['pretrained'] is None
    assert meta['model']['cls_head']['type'] == 'CheckedTSMHead'
    state = ckpt['state_dict']
    assert state['backbone.layer1.0.conv1.conv.net.weight'].shape == (
        64,
        64,
        1,
        1,
    )
    assert state['cls_head.fc_cls.weight'].shape == (5, 2048)
    assert state[
        'backbone.stage_blocks.layer2.0.stss_extraction.conv0.conv.weight'
    ].shape == (4, 1, 3, 3)

    init_default_scope('mmaction')
    model = MODELS.build(meta['model']).eval()
    model.load_state_dict(state, strict=True)
    clip = torch.randn(8, 3, 64, 64)  # one clip of 8 frames
    with torch.no_grad():
        expected = official(clip)
        logits = model.cls_head(model.backbone(clip), num_segs=8)
    assert expected.shape == logits.shape == (1, 5)
    tolerance = 1e-4 * expected.abs().max()
    torch.testing.assert_close(logits, expected, rtol=1e-4, atol=tolerance)
    # the comparison sees the SELFY branch: without it the logits move
    block = model.backbone.stage_blocks['layer2'][0]
    with torch.no_grad():
        block.stss_integration.upsample.bn.weight.zero_()
        block.stss_integration.upsample.bn.bias.zero_()
        without_selfy = model.cls_head(model.backbone(clip), num_segs=8)
    assert (without_selfy - expected).abs().max() > 100 * tolerance


def test_window_and_segments_come_from_the_config(tmp_path):
    src = str(tmp_path / 'l9.pth.tar')
    _save_official(src, window=(9, 9, 9))
    state, info = convert_tool.load_official(src)
    assert info['epoch'] == 42
    assert convert_tool.infer_length(state) == 9
    # the paper's (9, 9, 9) config for 16 frames, with 5 classes
    paper = osp.join(
        REPO,
        'configs',
        'selfy',
        'selfy_imagenet-pretrained-'
        'r50-window9x9x9_8xb8-1x1x16-50e_sthv1-rgb.py',
    )
    meta = convert_tool.convert(
        src, str(tmp_path / 'l9.pth'), paper, {'model.cls_head.num_classes': 5}
    )
    assert meta['window'] == [9, 9, 9]
    assert meta['num_segments'] == 16
    assert meta['model']['backbone']['num_segments'] == 16
    # the same through the one --cfg-options key on the (5, 9, 9) config
    assert (
        convert_tool.main(
            [
                src,
                str(tmp_path / 'key.pth'),
                CONFIG,
                '--cfg-options',
                CLASSES,
                'model.backbone.blocks.0.cfg.window=(9,9,9)',
            ]
        )
        == 0
    )
    key = torch.load(str(tmp_path / 'key.pth'), weights_only=True)
    assert key['meta']['window'] == [9, 9, 9]


def test_config_that_does_not_fit_the_checkpoint_fails(tmp_path):
    src = str(tmp_path / 'l9.pth.tar')
    _save_official(src, window=(9, 9, 9))
    out = str(tmp_path / 'out.pth')
    with pytest.raises(
        convert_tool.ConversionError, match=r'L=9 .*config\'s \(5, 9, 9\)'
    ):
        convert_tool.convert(
            src, out, CONFIG, {'model.cls_head.num_classes': 5}
        )
    with pytest.raises(
        convert_tool.ConversionError, match='5 classes .*num_classes is 174'
    ):
        convert_tool.convert(
            src, out, CONFIG, {'model.backbone.blocks.0.cfg.window': (9, 9, 9)}
        )
    # U, V come from the config: the official 9x9 weights do not fit 7x7
    with pytest.raises(convert_tool.ConversionError, match='shapes'):
        convert_tool.convert(
            src,
            out,
            CONFIG,
            {
                'model.cls_head.num_classes': 5,
                'model.backbone.blocks.0.cfg.window': (9, 7, 7),
            },
        )
    tsm = osp.join(
        REPO,
        'configs',
        'tsm',
        'tsm_imagenet-pretrained-r50_8xb8-1x1x8-50e_sthv1-rgb.py',
    )
    with pytest.raises(
        convert_tool.ConversionError, match='ResNetTSMWithBlocks'
    ):
        convert_tool.convert(src, out, tsm)
    assert not osp.exists(out)


def test_selfy_prefix_follows_the_blocks_list():
    block = dict(cfg=dict(type='SELFYBlock'), position='after_stage')
    other = dict(cfg=dict(type='ECA'), position='after_stage')
    model = dict(
        backbone=dict(
            blocks=[
                dict(other, layers=('layer3',)),
                dict(block, layers=('layer3',)),
            ]
        )
    )
    prefix = convert_tool.selfy_prefix(model)
    assert prefix == 'backbone.stage_blocks.layer3.1.'
    model['backbone']['blocks'].append(dict(block, layers=('layer2',)))
    with pytest.raises(convert_tool.ConversionError, match='exactly one'):
        convert_tool.selfy_prefix(model)


def test_unknown_and_missing_keys_fail_by_name(tmp_path, capsys):
    src = str(tmp_path / 'extra.pth.tar')
    _, state = _save_official(
        src, **{'module.base_model.selfy.extra.weight': torch.zeros(1)}
    )
    out = str(tmp_path / 'out.pth')
    assert convert_tool.main([src, out, CONFIG, '--cfg-options', CLASSES]) == 1
    assert 'base_model.selfy.extra.weight' in capsys.readouterr().err
    assert not osp.exists(tmp_path / 'out.pth')

    del state['module.base_model.selfy.extra.weight']
    del state['module.base_model.layer3.1.bn2.running_var']
    torch.save(dict(state_dict=state), src)
    with pytest.raises(
        convert_tool.ConversionError,
        match=r"missing \['backbone\.layer3\.1\.conv2\.bn\."
        r"running_var'\]",
    ):
        convert_tool.convert(
            src,
            str(tmp_path / 'out.pth'),
            CONFIG,
            {'model.cls_head.num_classes': 5},
        )


def test_not_a_selfy_checkpoint(tmp_path):
    path = str(tmp_path / 'other.pth')
    torch.save(
        {
            'module.base_model.conv1.weight': torch.zeros(64, 3, 7, 7),
            'module.new_fc.weight': torch.zeros(5, 2048, 1),
        },
        path,
    )
    with pytest.raises(
        convert_tool.ConversionError,
        match='conv3_fuse.1.weight.*not a SELFY checkpoint',
    ):
        convert_tool.convert(path, str(tmp_path / 'out.pth'), CONFIG)
    torch.save([1, 2], path)
    with pytest.raises(
        convert_tool.ConversionError,
        match='expected a dict checkpoint, got list',
    ):
        convert_tool.convert(path, str(tmp_path / 'out.pth'), CONFIG)
    with pytest.raises(convert_tool.ConversionError, match='no such'):
        convert_tool.convert(str(tmp_path / 'nope.pth'), path, CONFIG)
