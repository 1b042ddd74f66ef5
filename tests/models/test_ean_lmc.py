import os.path as osp

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS, TRANSFORMS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from zoo_helpers import (
    CONFIGS,
    count_params,
    imagenet_pair,
    single_thread,  # noqa: F401  (autouse fixture)
)

from selfy_mmaction.models.backbones.ean import EANResNet
from selfy_mmaction.models.blocks.ean import EANLatentMotionCode

R50_CONFIG = 'ean/ean-lmc_imagenet-pretrained-r50_8xb8-5x1x8-50e_sthv1-rgb.py'
MOTION_CONFIG = 'ean/ean-lmc_r18_5x1x8-4e_motion-rgb.py'


def run_config_steps(name, snippet_len, segments=None, size=64, batch=2):
    """Build a multi-frame config's model without pretrained weights (with
    ``segments`` segments if given, to stay fast), check the pipelines'
    sampling, and run one train_step and one test_step on uint8 clips of
    ``segments * snippet_len`` frames. Returns the model."""
    init_default_scope('mmaction')
    cfg = Config.fromfile(osp.join(CONFIGS, name))
    t = cfg.model.cls_head.num_segments
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        sampler = [
            s for s in cfg[loader].dataset.pipeline if s.type == 'SampleFrames'
        ][0]
        assert (sampler.clip_len, sampler.num_clips) == (snippet_len, t)
    assert cfg.model.cls_head.snippet_len == snippet_len
    t = segments or t
    cfg.model.backbone.update(
        pretrained=None, pretrained2d=False, num_segments=t
    )
    cfg.model.cls_head.num_segments = t
    model = MODELS.build(cfg.model)
    model.init_weights()
    classes = cfg.model.cls_head.num_classes
    data = dict(
        inputs=[
            torch.randint(
                0, 256, (t * snippet_len, 3, size, size), dtype=torch.uint8
            )
            for _ in range(batch)
        ],
        data_samples=[
            ActionDataSample().set_gt_label(i % classes) for i in range(batch)
        ],
    )
    losses = model.train_step(
        data, build_optim_wrapper(model, cfg.optim_wrapper)
    )
    assert torch.isfinite(losses['loss_cls'])
    preds = model.test_step(data)
    assert len(preds) == batch and preds[0].pred_score.shape == (classes,)
    return model


def predict_video(model, name, video):
    """Run the config's test pipeline on a real video and the model's
    test_step on the result; returns the packed inputs' shape."""
    cfg = Config.fromfile(osp.join(CONFIGS, name))
    results = dict(filename=video, start_index=0, modality='RGB', label=0)
    for step in cfg.test_dataloader.dataset.pipeline:
        results = TRANSFORMS.build(step)(results)
    preds = model.test_step(
        dict(
            inputs=[results['inputs']], data_samples=[results['data_samples']]
        )
    )
    assert preds[0].pred_score.shape == (cfg.model.cls_head.num_classes,)
    return tuple(results['inputs'].shape)


def _lmc(**kwargs):
    lmc = EANLatentMotionCode(**kwargs)
    lmc.init_weights()
    with torch.no_grad():
        for m in lmc.modules():
            if isinstance(m, nn.BatchNorm3d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 1.5)
    return lmc.double().eval()


def _bn3d(x, bn):
    return F.batch_norm(
        x,
        bn.running_mean,
        bn.running_var,
        bn.weight,
        bn.bias,
        False,
        eps=bn.eps,
    )


def _lmc_reference(lmc, snippets, out_size):
    """The LMC written from its description with explicit patch loops."""
    b, length, c, h, w = snippets.shape
    p, q, k = lmc.patch_size, lmc.code_patch_size, lmc.code_channels
    gh, gw = -(-out_size[0] // q), -(-out_size[1] // q)
    half = snippets[..., ::2, ::2][..., : h // 2, : w // 2]
    diffs = half[:, 1:] - half[:, :-1]  # (B, L-1, C, h, w)
    padded = diffs.new_zeros(b, length - 1, c, gh * p, gw * p)
    padded[..., : diffs.shape[-2], : diffs.shape[-1]] = diffs
    tokens = diffs.new_zeros(b, p * p * c, length - 1, gh, gw)
    for py in range(p):
        for px in range(p):
            for ch in range(c):
                tokens[:, (py * p + px) * c + ch] = padded[
                    :, :, ch, py::p, px::p
                ].reshape(b, length - 1, gh, gw)
    x = F.conv3d(tokens, lmc.embed.weight)
    unit1, unit2 = lmc.residual_units
    conv_a, conv_b = unit1.layers
    y = F.relu(
        _bn3d(F.conv3d(x, conv_a.conv.weight, padding=1, groups=16), conv_a.bn)
    )
    x = x + _bn3d(F.conv3d(y, conv_b.conv.weight), conv_b.bn)
    conv_c = unit2.layers[0]
    x = x + _bn3d(
        F.conv3d(x, conv_c.conv.weight, padding=1, groups=16), conv_c.bn
    )
    y = F.conv3d(x, lmc.project.weight)  # (B, q*q*k, L-1, gh, gw)
    code = y.new_zeros(b, k * (length - 1), gh * q, gw * q)
    for py in range(q):
        for px in range(q):
            for ch in range(k):
                for t in range(length - 1):
                    code[:, ch * (length - 1) + t, py::q, px::q] = y[
                        :, (py * q + px) * k + ch, t
                    ]
    return code[:, :, : out_size[0], : out_size[1]]


@pytest.mark.parametrize(
    'hw,out_size',
    [((64, 64), (16, 16)), ((71, 45), (18, 12)), ((33, 97), (9, 25))],
)
def test_lmc_matches_reference(hw, out_size):
    lmc = _lmc()
    with torch.no_grad():
        lmc.project.weight.normal_()  # a visible code
    snippets = torch.randn(3, 5, 3, *hw, dtype=torch.float64)
    out = lmc(snippets, out_size)
    assert out.shape == (3, 64, *out_size)
    torch.testing.assert_close(
        out, _lmc_reference(lmc, snippets, out_size), rtol=0, atol=1e-10
    )


def test_lmc_parameters_and_initialisation():
    lmc = EANLatentMotionCode()
    lmc.init_weights()
    # 768*256 + 2 * 256*16*27 + 256*256 + 3 BN3d * 512 + 256*1024
    assert count_params(lmc) == 747008
    bound = 0.01 / 256**0.5  # 0.01 x PyTorch's default uniform bound
    w = lmc.project.weight
    assert 0 < w.abs().max() <= bound and w.abs().max() > 0.9 * bound
    assert lmc.project.bias is None and lmc.embed.bias is None
    # not zero at init: static frames give no code, moving frames a small one
    static = torch.randn(2, 1, 3, 64, 64).expand(-1, 5, -1, -1, -1)
    lmc.eval()
    with torch.no_grad():
        assert lmc(static, (16, 16)).abs().max() == 0
        code = lmc(torch.randn(2, 5, 3, 64, 64), (16, 16))
    assert 0 < code.abs().max() < 0.5


def test_backbone_is_the_stem_plus_code_on_the_middle_frame():
    t = 3
    ean = MODELS.build(
        dict(
            type='EANResNet',
            depth=18,
            num_segments=t,
            pretrained=None,
            pretrained2d=False,
        )
    )
    ean.init_weights()
    ean = ean.double()
    ean.eval()  # MMAction2's ResNet.train() returns None
    x = torch.randn(2 * t * 5, 3, 35, 29, dtype=torch.float64)
    snippets = x.view(2 * t, 5, 3, 35, 29)
    stem = ean.maxpool(ean.conv1(snippets[:, 2]))
    stem = stem + ean.latent_motion_code(snippets, stem.shape[-2:])
    layers = (ean.layer1, ean.layer2, ean.layer3, ean.layer4)
    expected = stem
    for layer in layers:
        expected = layer(expected)
    torch.testing.assert_close(ean(x), expected, rtol=0, atol=1e-12)
    # with the code at zero the backbone is the TSM-ResNet on middle frames
    with torch.no_grad():
        ean.latent_motion_code.project.weight.zero_()
    plain = super(EANResNet, ean).forward_stem(snippets[:, 2].contiguous())
    for layer in layers:
        plain = layer(plain)
    torch.testing.assert_close(ean(x), plain, rtol=0, atol=0)


def test_segments_are_grouped_and_every_frame_counts():
    """Without the shift, a change in any frame of segment s changes the
    output of segment s only (non-middle frames through the code)."""
    t = 3
    ean = MODELS.build(
        dict(
            type='EANResNet',
            depth=18,
            num_segments=t,
            is_shift=False,
            pretrained=None,
            pretrained2d=False,
        )
    )
    ean.init_weights()
    ean.eval()
    x = torch.randn(t * 5, 3, 64, 64)
    with torch.no_grad():
        reference = ean(x)
        for frame in (5, 7, 9):  # first, middle and last of segment 1
            y = x.clone()
            y[frame] += 1
            changed = (ean(y) - reference).flatten(1).abs().amax(1) > 0
            assert changed.tolist() == [False, True, False], frame


@pytest.mark.parametrize('t,hw', [(1, (64, 64)), (3, (71, 45)), (8, (32, 96))])
def test_backbone_shapes(t, hw):
    ean = MODELS.build(
        dict(
            type='EANResNet',
            depth=18,
            num_segments=t,
            pretrained=None,
            pretrained2d=False,
        )
    )
    ean.init_weights()
    with torch.no_grad():
        out = ean(torch.randn(2 * t * 5, 3, *hw))
    assert out.shape == (2 * t, 512, -(-hw[0] // 32), -(-hw[1] // 32))


def test_gradients_reach_every_parameter():
    ean = MODELS.build(
        dict(
            type='EANResNet',
            depth=18,
            num_segments=2,
            pretrained=None,
            pretrained2d=False,
        )
    )
    ean.init_weights()
    out = ean(torch.randn(20, 3, 64, 64))
    (out * torch.randn_like(out)).sum().backward()
    for name, p in ean.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_imagenet_loading_misses_only_the_code(tmp_path):
    """The ImageNet path raises if any ResNet weight is missed; the code is
    initialised after loading."""
    plain, ean = imagenet_pair(
        tmp_path, 18, [], backbone='EANResNet', num_segments=2
    )
    ours = ean.layer1.state_dict()
    for key, value in plain.layer1.state_dict().items():
        # TSM wraps conv1.conv: its weight is conv1.conv.net.weight
        key = key.replace('conv1.conv.weight', 'conv1.conv.net.weight')
        torch.testing.assert_close(ours[key], value)
    w = ean.latent_motion_code.project.weight
    assert 0 < w.abs().max() <= 0.01 / 256**0.5


def test_clear_errors():
    ean = MODELS.build(
        dict(
            type='EANResNet',
            depth=18,
            num_segments=8,
            pretrained=None,
            pretrained2d=False,
        )
    )
    with pytest.raises(
        ValueError,
        match=r'N\*40 frames .*snippet_len=5.*'
        r'SampleFrames\(clip_len=5, num_clips=8\)',
    ):
        ean(torch.randn(8, 3, 64, 64))
    with pytest.raises(ValueError, match='snippet_len must be >= 2'):
        EANLatentMotionCode(snippet_len=1)
    with pytest.raises(ValueError, match='split evenly over the 3 frame'):
        EANLatentMotionCode(snippet_len=4)
    with pytest.raises(ValueError, match='patch_size must be even'):
        EANLatentMotionCode(patch_size=15)
    with pytest.raises(ValueError, match='multiple of groups=16'):
        EANLatentMotionCode(embed_channels=100)
    with pytest.raises(ValueError, match=r'snippets \(N\*T, 5, 3, H, W\)'):
        EANLatentMotionCode()(torch.randn(2, 4, 3, 32, 32), (8, 8))
    with pytest.raises(ValueError, match='stem output size is too small'):
        EANLatentMotionCode()(torch.randn(2, 5, 3, 64, 64), (4, 4))


def test_r50_config_builds_and_steps():
    model = run_config_steps(R50_CONFIG, 5, segments=2)
    assert model.backbone.is_shift
    assert type(model.backbone).__name__ == 'EANResNet'


def test_motion_config_builds_and_steps(testdata_dir):
    model = run_config_steps(MOTION_CONFIG, 5)
    assert model.backbone.depth == 18
    shape = predict_video(
        model, MOTION_CONFIG, osp.join(testdata_dir, 'test.mp4')
    )
    assert shape == (40, 3, 64, 64)
