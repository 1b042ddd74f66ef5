import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmaction.datasets.transforms import SampleFrames
from mmaction.models.backbones.resnet_tsm import TemporalShift
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from selfy_mmaction.models.blocks.tdn import (
    TDNLearnableShift,
    TDNLongTermTDM,
    TDNShortTermTDM,
)

CONFIG = 'configs/tdn/tdn_imagenet-pretrained-r50_8xb8-5x1x8-50e_sthv1-rgb.py'


def _randomise_bn(module):
    """Non-trivial BN statistics and affine parameters (eval-mode tests)."""
    for m in module.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)


def _conv_bn(x, module, **conv_kwargs):
    """A ``ConvModule`` (conv + eval BN) written with functional ops."""
    bn = module.bn
    x = F.conv2d(x, module.conv.weight, **conv_kwargs)
    return F.batch_norm(
        x,
        bn.running_mean,
        bn.running_var,
        bn.weight,
        bn.bias,
        training=False,
        eps=bn.eps,
    )


def _eval64(module):
    if hasattr(module, 'init_weights'):
        module.init_weights()
    _randomise_bn(module)
    return module.double().eval()


def test_short_term_tdm_matches_manual_differences():
    stdm = _eval64(TDNShortTermTDM(snippet_len=5))
    snippets = torch.randn(3, 5, 3, 17, 22, dtype=torch.float64)
    differences = torch.cat(
        [snippets[:, k + 1] - snippets[:, k] for k in range(4)], dim=1
    )
    x = F.avg_pool2d(differences, 2)
    x = F.relu(_conv_bn(x, stdm.conv, stride=2, padding=3))
    expected = F.max_pool2d(x, 3, stride=2, padding=1)
    out = stdm(snippets)
    assert out.shape == (3, 64, 2, 3)
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)


def _long_term_reference(ltdm, x, t):
    """TDN's L-TDM written out with loops over time (eval-mode BN)."""
    unit = ltdm.difference
    f = _conv_bn(x, unit.reduce)
    c = f.shape[1]
    g = F.conv2d(f, unit.neighbour_conv.weight, padding=1, groups=c)
    n = x.shape[0] // t
    f5, g5 = f.view(n, t, *f.shape[1:]), g.view(n, t, *g.shape[1:])
    gates = []
    for step in (1, -1):
        d5 = torch.zeros_like(f5)
        for b in range(n):
            for i in range(t):
                if 0 <= i + step < t:
                    d5[b, i] = g5[b, i + step] - f5[b, i]
        d = d5.view_as(f)
        coarse = _conv_bn(F.avg_pool2d(d, 2), ltdm.coarse_conv, padding=1)
        rows = torch.arange(d.shape[2]) * coarse.shape[2] // d.shape[2]
        cols = torch.arange(d.shape[3]) * coarse.shape[3] // d.shape[3]
        coarse = coarse[:, :, rows][:, :, :, cols]  # nearest upsampling
        fine = _conv_bn(d, ltdm.fine_conv, padding=1)
        y = (d + coarse + fine) / 3
        gates.append(torch.sigmoid(_conv_bn(y, ltdm.expand)) - 0.5)
    return x + x * (gates[0] + gates[1]) / 2


@pytest.mark.parametrize('t,hw', [(1, (4, 4)), (3, (7, 5)), (8, (6, 9))])
def test_long_term_tdm_matches_manual_loop(t, hw):
    ltdm = _eval64(TDNLongTermTDM(64, t, reduction=16))
    x = torch.randn(2 * t, 64, *hw, dtype=torch.float64)
    torch.testing.assert_close(
        ltdm(x), _long_term_reference(ltdm, x, t), rtol=0, atol=1e-12
    )


def test_learnable_shift_at_init_is_tsm_shift():
    shift = TDNLearnableShift(64, num_segments=4).double()
    assert shift.weight.requires_grad
    x = torch.randn(8, 64, 3, 5, dtype=torch.float64)
    torch.testing.assert_close(
        shift(x), TemporalShift.shift(x, 4, 8), rtol=0, atol=0
    )


def _backbone(t=2, **kwargs):
    cfg = dict(
        type='TDNResNet',
        depth=50,
        num_segments=t,
        pretrained=None,
        pretrained2d=False,
    )
    backbone = MODELS.build(dict(cfg, **kwargs))
    backbone.init_weights()
    return backbone


def _two_stages(**kwargs):
    """A backbone cut after layer2 (fast tests); L-TDM + shift in layer2."""
    blocks = [
        dict(cfg=dict(type=name), position='after_conv1', layers=('layer2',))
        for name in ('TDNLongTermTDM', 'TDNLearnableShift')
    ]
    cfg = dict(
        num_stages=2,
        out_indices=(1,),
        strides=(1, 2),
        dilations=(1, 1),
        blocks=blocks,
    )
    return dict(cfg, **kwargs)


def test_blocks_sit_after_conv1_of_layer2_to_4_in_order():
    backbone = _backbone()
    assert sum(isinstance(m, TDNLongTermTDM) for m in backbone.modules()) == 13
    assert (
        sum(isinstance(m, TDNLearnableShift) for m in backbone.modules()) == 13
    )
    for block in backbone.layer1:
        assert not hasattr(block.conv1, 'insert')
    for layer in (backbone.layer2, backbone.layer3, backbone.layer4):
        for block in layer:
            # L-TDM runs first, on conv1's output; the shift on its output
            assert isinstance(block.conv1.net.insert, TDNLongTermTDM)
            assert isinstance(block.conv1.insert, TDNLearnableShift)
            channels = block.conv1.net.net.conv.out_channels
            assert block.conv1.insert.channels == channels
            assert block.conv1.net.insert.difference.channels == channels // 16


@pytest.mark.parametrize('t,hw', [(1, (65, 71)), (3, (64, 64))])
def test_backbone_shapes(t, hw):
    with torch.no_grad():
        out = _backbone(t=t)(torch.randn(2 * t * 5, 3, *hw))
    assert out.shape == (2 * t, 2048, (hw[0] + 31) // 32, (hw[1] + 31) // 32)


def test_backbone_forward_is_the_documented_composition():
    """Centre frame through the stem, fused 0.75/0.25 with the S-TDM maps
    before and after layer1 (float64, eval mode)."""
    t = 3
    backbone = _backbone(t=t, **_two_stages(fusion_weights=(0.75, 0.25)))
    _randomise_bn(backbone)
    backbone = backbone.double()
    backbone.eval()  # MMAction2's ResNet.train() returns None
    x = torch.randn(2 * t * 5, 3, 35, 33, dtype=torch.float64)
    snippets = x.view(2 * t, 5, 3, 35, 33)
    z1 = backbone.short_term_tdm(snippets)
    z2 = backbone.short_term_layer1(z1)
    rgb = backbone.maxpool(backbone.conv1(snippets[:, 2]))
    rgb = 0.75 * rgb + 0.25 * F.interpolate(z1, size=rgb.shape[-2:])
    rgb = backbone.layer1(rgb)
    rgb = 0.75 * rgb + 0.25 * F.interpolate(z2, size=rgb.shape[-2:])
    expected = backbone.layer2(rgb)
    torch.testing.assert_close(backbone(x), expected, rtol=0, atol=1e-12)


def test_snippets_are_grouped_segment_by_segment():
    """Without L-TDM/shift, changing any frame of snippet s changes only the
    output of segment s."""
    t = 3
    backbone = _backbone(t=t, **_two_stages(blocks=[]))
    backbone.eval()
    x = torch.randn(t * 5, 3, 32, 32)
    with torch.no_grad():
        reference = backbone(x)
        for frame in (5, 6, 9):  # first, second and last frame of segment 1
            y = x.clone()
            y[frame] += 1
            changed = (backbone(y) - reference).flatten(1).abs().amax(1) > 0
            assert changed.tolist() == [False, True, False]


def test_gradients_reach_every_parameter():
    backbone = _backbone(t=3, **_two_stages())
    backbone(torch.randn(15, 3, 33, 35)).square().mean().backward()
    for name, p in backbone.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_clear_errors():
    backbone = _backbone(t=8, **_two_stages())
    with pytest.raises(
        ValueError,
        match=r'N\*40 frames .*snippet_len=5.*'
        r'SampleFrames\(clip_len=5, num_clips=8\)',
    ):
        backbone(torch.randn(8, 3, 32, 32))
    with pytest.raises(ValueError, match='snippet_len must be >= 2'):
        TDNShortTermTDM(snippet_len=1)
    with pytest.raises(ValueError, match=r'snippets \(N\*T, 5, 3, H, W\)'):
        TDNShortTermTDM()(torch.randn(2, 4, 3, 8, 8))
    with pytest.raises(ValueError, match='H, W >= 2'):
        TDNLongTermTDM(32, 2)(torch.randn(4, 32, 1, 3))
    with pytest.raises(ValueError, match='fusion_weights'):
        _backbone(fusion_weights=(0.5, 0.3, 0.2))
    with pytest.raises(ValueError, match='temporal_pool'):
        _backbone(temporal_pool=True)


def _torchvision_keys(state_dict):
    """MMAction2 ResNet keys -> torchvision's (``conv1.conv`` -> ``conv1``,
    ``conv1.bn`` -> ``bn1``, ``downsample.conv/bn`` -> ``downsample.0/1``)."""
    out = {}
    for key, value in state_dict.items():
        if key.endswith('num_batches_tracked'):
            continue
        key = re.sub(r'conv(\d)\.conv\.', r'conv\1.', key)
        key = re.sub(r'conv(\d)\.bn\.', r'bn\1.', key)
        key = key.replace('downsample.conv.', 'downsample.0.')
        out[key.replace('downsample.bn.', 'downsample.1.')] = value
    return out


def test_imagenet_loading_fills_rgb_path_and_short_term_tdm(tmp_path):
    plain = MODELS.build(
        dict(
            type='ResNet',
            depth=50,
            num_stages=2,
            out_indices=(1,),
            strides=(1, 2),
            dilations=(1, 1),
        )
    )
    plain.init_weights()
    _randomise_bn(plain)
    path = str(tmp_path / 'r50.pth')
    state = _torchvision_keys(plain.state_dict())
    torch.save(state, path)
    backbone = _backbone(**_two_stages(pretrained=path, pretrained2d=True))
    for ours, ref in (
        (backbone.layer1, plain.layer1),
        (backbone.short_term_layer1, plain.layer1),
    ):
        for key, value in ref.state_dict().items():
            if not key.endswith('num_batches_tracked'):
                torch.testing.assert_close(ours.state_dict()[key], value)
    conv1 = backbone.layer2[0].conv1.net.net
    torch.testing.assert_close(
        conv1.conv.weight, plain.layer2[0].conv1.conv.weight
    )
    kernel = backbone.short_term_tdm.conv.conv.weight
    assert kernel.shape == (64, 12, 7, 7)
    rgb_mean = state['conv1.weight'].mean(dim=1, keepdim=True)
    torch.testing.assert_close(kernel, rgb_mean.expand(-1, 12, -1, -1))
    # the inserted blocks were initialised after loading
    x = torch.randn(4, 128, 2, 2)
    torch.testing.assert_close(
        backbone.layer2[1].conv1.insert(x), TemporalShift.shift(x, 2, 8)
    )


def test_head_counts_a_snippet_as_one_segment():
    head = MODELS.build(
        dict(
            type='TDNHead',
            num_classes=7,
            in_channels=16,
            num_segments=4,
            snippet_len=5,
            dropout_ratio=0,
        )
    )
    plain = MODELS.build(
        dict(
            type='TSMHead',
            num_classes=7,
            in_channels=16,
            num_segments=4,
            dropout_ratio=0,
        )
    )
    plain.load_state_dict(head.state_dict())
    x = torch.randn(2 * 3 * 4, 16, 2, 2)  # 2 samples x 3 views x 4 segments
    for training, frames, views in ((True, 20, 1), (False, 60, 3)):
        head.train(training)
        plain.train(training)
        torch.testing.assert_close(
            head(x[: 2 * 4 * views], frames),
            plain(x[: 2 * 4 * views], frames // 5),
        )
    with pytest.raises(ValueError, match='not a multiple of snippet_len=5'):
        head(x, 12)


@pytest.mark.parametrize('test_mode', [False, True])
def test_sampling_gives_segment_ordered_snippets(test_mode):
    sampler = SampleFrames(
        clip_len=5,
        frame_interval=1,
        num_clips=8,
        out_of_bound_opt='repeat_last',
        test_mode=test_mode,
    )
    for total in (6, 37, 300):
        inds = sampler(dict(total_frames=total, start_index=1))['frame_inds']
        snippets = inds.reshape(8, 5)
        steps = np.diff(snippets, axis=1)
        assert (
            (steps == 1) | ((steps == 0) & (snippets[:, 1:] == total))
        ).all()
        assert (np.diff(snippets[:, 0]) >= 0).all() and inds.max() <= total


def test_config_builds_and_runs_train_and_test_step():
    init_default_scope('mmaction')
    cfg = Config.fromfile(CONFIG)
    assert cfg.model.backbone.type == 'TDNResNet'
    assert cfg.model.cls_head.type == 'TDNHead'
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        sampling = cfg[loader].dataset.pipeline[0]
        assert (sampling.clip_len, sampling.num_clips) == (5, 8), loader
        assert sampling.out_of_bound_opt == 'repeat_last'
    t = 2  # fewer segments than the config's 8, to stay fast
    cfg.model.backbone.update(
        pretrained=None, pretrained2d=False, num_segments=t
    )
    cfg.model.cls_head.num_segments = t
    model = MODELS.build(cfg.model)
    model.init_weights()
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    data = dict(
        inputs=[
            torch.randint(0, 256, (t * 5, 3, 64, 64), dtype=torch.uint8)
            for _ in range(2)
        ],
        data_samples=[ActionDataSample().set_gt_label(i) for i in (3, 170)],
    )
    losses = model.train_step(data, optim)
    assert torch.isfinite(losses['loss_cls'])
    preds = model.test_step(data)
    assert len(preds) == 2 and preds[0].pred_score.shape == (174,)
    torch.testing.assert_close(preds[0].pred_score.sum(), torch.tensor(1.0))
