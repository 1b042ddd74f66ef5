import math
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from test_ean_lmc import predict_video, run_config_steps
from zoo_helpers import (
    count_params,
    imagenet_pair,
    single_thread,  # noqa: F401  (autouse fixture)
)

from selfy_mmaction.models.backbones.bqn import BQNResNet, BusyResNetTSM
from selfy_mmaction.models.blocks.bqn import (
    BusyQuietLateral,
    MotionBandPass,
    log_kernel,
)
from selfy_mmaction.ops.temporal import TemporalConv1d


def _log_formula(sigma, k):
    """LoG / its sum, element by element from the formula."""
    values = [[0.0] * k for _ in range(k)]
    for i in range(k):
        for j in range(k):
            r2 = (i - k // 2) ** 2 + (j - k // 2) ** 2
            values[i][j] = (
                -1
                / (math.pi * sigma**4)
                * (1 - r2 / (2 * sigma**2))
                * math.exp(-r2 / (2 * sigma**2))
            )
    total = sum(map(sum, values))
    return torch.tensor(values, dtype=torch.float64) / total


@pytest.mark.parametrize('sigma,k', [(1.1, 9), (0.9, 7), (0.9, 3), (2.0, 5)])
def test_log_kernel_matches_formula(sigma, k):
    kernel = log_kernel(sigma, k)
    torch.testing.assert_close(
        kernel, _log_formula(sigma, k), rtol=1e-12, atol=0
    )
    torch.testing.assert_close(
        kernel.sum(), torch.tensor(1.0, dtype=torch.float64)
    )
    torch.testing.assert_close(kernel, kernel.t())


def test_input_band_pass_init_values():
    mbpm = MotionBandPass(3, 3, snippet=True)
    mbpm.init_weights()
    assert count_params(mbpm) == 252
    assert abs(mbpm.spatial.weight[0, 0, 4, 4].item() - 278.4) < 0.1
    torch.testing.assert_close(
        mbpm.temporal.weight[:, 0], torch.tensor([[-1.0, 2.0, -1.0]] * 3) / 3
    )


def _log_then_temporal(x, spatial, taps, t, pad_time):
    """The official order: LoG on every frame (reflect padding), then the
    temporal taps with replicate padding in time (``pad_time``) or over the
    3 frames of each segment (stride 3)."""
    k = spatial.shape[-1]
    y = F.conv2d(
        F.pad(x, (k // 2,) * 4, mode='reflect'), spatial, groups=x.shape[1]
    )
    n = y.shape[0] // t
    y5 = y.view(n, t, *y.shape[1:])
    w = taps.view(1, -1, 3, 1, 1)  # (1, C, 3, 1, 1)
    if not pad_time:  # one output per 3 frames
        return (y5.transpose(1, 2) * w).sum(2)
    out = torch.zeros_like(y5)
    for i in range(t):
        for tap in range(3):
            src = min(max(i + tap - 1, 0), t - 1)  # replicate
            out[:, i] += w[:, :, tap] * y5[:, src]
    return out.view_as(y)


def _randomise_band_pass(mbpm):
    mbpm.init_weights()
    mbpm.double()
    with torch.no_grad():
        mbpm.spatial.weight.mul_(
            1 + 0.1 * torch.randn_like(mbpm.spatial.weight)
        )
        mbpm.temporal.weight.add_(0.2 * torch.randn_like(mbpm.temporal.weight))
    return mbpm


@pytest.mark.parametrize(
    't,hw,k', [(8, (9, 11), 7), (3, (4, 5), 3), (1, (8, 8), 7)]
)
def test_feature_band_pass_matches_official_order(t, hw, k):
    mbpm = _randomise_band_pass(MotionBandPass(6, t, 0.9, k))
    x = torch.randn(2 * t, 6, *hw, dtype=torch.float64)
    expected = _log_then_temporal(
        x, mbpm.spatial.weight, mbpm.temporal.weight[:, 0], t, True
    )
    torch.testing.assert_close(mbpm(x), expected, rtol=1e-10, atol=1e-8)


def test_input_band_pass_matches_official_order():
    mbpm = _randomise_band_pass(MotionBandPass(3, 3, snippet=True))
    x = torch.randn(4 * 3, 3, 13, 10, dtype=torch.float64)
    expected = _log_then_temporal(
        x, mbpm.spatial.weight, mbpm.temporal.weight[:, 0], 3, False
    )
    out = mbpm(x.view(4, 3, 3, 13, 10))
    assert out.shape == (4, 3, 13, 10)
    torch.testing.assert_close(out, expected, rtol=1e-10, atol=1e-8)
    # at init: a static segment has no busy frame
    mbpm.init_weights()
    static = torch.randn(2, 1, 3, 13, 10, dtype=torch.float64).expand(
        -1, 3, -1, -1, -1
    )
    assert mbpm(static).abs().max() < 1e-9


def test_replicate_padding_with_explicit_taps():
    conv = TemporalConv1d(
        2, 4, 3, init=(-1.0, 2.0, -1.0), padding_mode='replicate'
    ).double()
    x = torch.arange(8, dtype=torch.float64).view(4, 2, 1, 1) ** 2
    # per channel, frames x_0..x_3: -x_{t-1} + 2 x_t - x_{t+1}, ends repeat
    x5 = x.view(4, 2)
    padded = torch.cat([x5[:1], x5, x5[-1:]])
    expected = -padded[:-2] + 2 * padded[1:-1] - padded[2:]
    torch.testing.assert_close(conv(x).view(4, 2), expected, rtol=0, atol=0)
    with pytest.raises(ValueError, match='do not match kernel_size=3'):
        TemporalConv1d(2, 4, 3, init=(1.0, 1.0))
    with pytest.raises(ValueError, match="padding_mode must be 'zeros' or"):
        TemporalConv1d(2, 4, padding_mode='reflect')


def _bqn(depth=18, t=2, **kwargs):
    cfg = dict(
        type='BQNResNet',
        depth=depth,
        num_segments=t,
        pretrained=None,
        pretrained2d=False,
    )
    net = MODELS.build(dict(cfg, **kwargs))
    net.init_weights()
    return net


def test_busy_network_is_tsm_on_the_band_passed_frame():
    t = 2
    busy = MODELS.build(
        dict(
            type='BusyResNetTSM',
            depth=18,
            num_segments=t,
            pretrained=None,
            pretrained2d=False,
        )
    )
    busy.init_weights()
    plain = MODELS.build(
        dict(
            type='ResNetTSM',
            depth=18,
            num_segments=t,
            pretrained=None,
            pretrained2d=False,
        )
    )
    assert count_params(busy) - count_params(plain) == 252
    plain.load_state_dict(busy.state_dict(), strict=False)
    busy.eval()
    plain.eval()
    x = torch.randn(2 * t * 3, 3, 40, 36)
    with torch.no_grad():
        frames = busy.band_pass(x.view(2 * t, 3, 3, 40, 36))
        torch.testing.assert_close(busy(x), plain(frames), rtol=0, atol=0)


def test_bqn_with_zero_laterals_is_two_plain_pathways():
    """At init each pathway equals its plain network: the output is the mean
    of TSM-ResNet(first frames) and the busy network; trained lateral BNs
    change it (the check can fail)."""
    t = 2
    bqn = _bqn(t=t)
    bqn.eval()
    x = torch.randn(2 * t * 3, 3, 64, 72)
    first = x.view(2 * t, 3, 3, 64, 72)[:, 0].contiguous()
    with torch.no_grad():
        expected = (bqn.quiet(first) + bqn.busy(x)) / 2
        torch.testing.assert_close(bqn(x), expected, rtol=0, atol=0)
        for stage in bqn.laterals:
            for lateral in stage:
                lateral.to_busy.bn.weight.fill_(0.5)
        assert not torch.allclose(bqn(x), expected)


def test_lateral_uses_the_blocks_outputs_simultaneously():
    lateral = BusyQuietLateral(8, 3, 0.9, 3)
    lateral.init_weights()
    lateral.double().eval()
    with torch.no_grad():
        for lat in (lateral.to_quiet, lateral.to_busy):
            lat.bn.weight.uniform_(0.5, 1.5)
            lat.bn.bias.uniform_(-0.5, 0.5)
    quiet = torch.randn(6, 8, 5, 4, dtype=torch.float64)
    busy = torch.randn(6, 8, 5, 4, dtype=torch.float64)
    new_quiet, new_busy = lateral(quiet, busy)
    torch.testing.assert_close(new_quiet, quiet + lateral.to_quiet(busy))
    torch.testing.assert_close(
        new_busy, busy + lateral.to_busy(lateral.band_pass(quiet))
    )


def test_bqn_structure_and_parameters():
    bqn = _bqn(depth=50, t=8)
    plain = MODELS.build(
        dict(type='ResNetTSM', depth=50, pretrained=None, pretrained2d=False)
    )
    laterals = [lat for stage in bqn.laterals for lat in stage]
    assert len(laterals) == 16
    assert [stage[0].band_pass.kernel_size for stage in bqn.laterals] == [
        7,
        7,
        7,
        3,
    ]
    # 2*C^2 per block (the 1x1 convs; ~40 M) + BN, LoG and temporal taps
    sizes = [256] * 3 + [512] * 4 + [1024] * 6 + [2048] * 3
    ks = [7] * 13 + [3] * 3
    lateral_params = sum(
        2 * c * c + 4 * c + c * k * k + 3 * c for c, k in zip(sizes, ks)
    )
    assert count_params(bqn) == 2 * count_params(plain) + 252 + lateral_params


@pytest.mark.parametrize(
    'depth,t,hw', [(18, 1, (64, 64)), (18, 3, (97, 71)), (18, 2, (65, 67))]
)
def test_shapes(depth, t, hw):
    net = _bqn(depth=depth, t=t)
    with torch.no_grad():
        out = net(torch.randn(2 * t * 3, 3, *hw))
    channels = 512 if depth == 18 else 2048
    assert out.shape == (2 * t, channels, -(-hw[0] // 32), -(-hw[1] // 32))


def test_gradients_reach_every_parameter():
    bqn = _bqn(t=2)
    x = torch.randn(12, 3, 64, 64)
    out = bqn(x)
    (out * torch.randn_like(out)).sum().backward()
    lateral = bqn.laterals[1][0]
    # zero-initialised laterals: their BN affine gets a gradient, the rest
    # waits for a non-zero gamma
    assert lateral.to_busy.bn.weight.grad.abs().sum() > 0
    assert lateral.to_busy.conv.weight.grad.abs().sum() == 0
    with torch.no_grad():
        for stage in bqn.laterals:
            for lat in stage:
                lat.to_quiet.bn.weight.fill_(1.0)
                lat.to_busy.bn.weight.fill_(1.0)
    bqn.zero_grad()
    out = bqn(x)
    (out * torch.randn_like(out)).sum().backward()
    for name, p in bqn.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_imagenet_weights_load_into_both_pathways(tmp_path):
    plain, busy = imagenet_pair(
        tmp_path, 18, [], backbone='BusyResNetTSM', num_segments=2
    )
    bqn = MODELS.build(
        dict(
            type='BQNResNet',
            depth=18,
            num_segments=2,
            pretrained=str(tmp_path / 'r18.pth'),
            pretrained2d=True,
        )
    )
    bqn.init_weights()
    reference = plain.float().layer3.state_dict()
    for pathway in (bqn.quiet, bqn.busy, busy):
        ours = pathway.layer3.state_dict()
        for key, value in reference.items():
            if key.endswith('num_batches_tracked'):
                continue
            key = key.replace('conv1.conv.weight', 'conv1.conv.net.weight')
            torch.testing.assert_close(ours[key].float(), value)
    # the band-pass stem and the laterals are initialised after loading
    torch.testing.assert_close(
        bqn.busy.band_pass.spatial.weight[0, 0], log_kernel(1.1, 9).float()
    )
    assert bqn.laterals[2][1].to_quiet.bn.weight.abs().max() == 0


def test_clear_errors():
    bqn = _bqn(t=8)
    with pytest.raises(
        ValueError,
        match=r'BQNResNet expects N\*24 frames .*'
        r'SampleFrames\(clip_len=3, num_clips=8\)',
    ):
        bqn(torch.randn(40, 3, 64, 64))
    busy = MODELS.build(
        dict(
            type='BusyResNetTSM',
            depth=18,
            num_segments=4,
            pretrained=None,
            pretrained2d=False,
        )
    )
    with pytest.raises(ValueError, match=r'BusyResNetTSM expects N\*12'):
        busy(torch.randn(8, 3, 64, 64))
    with pytest.raises(ValueError, match=r'needs H, W > 4'):
        busy(torch.randn(12, 3, 64, 4))
    with pytest.raises(ValueError, match='needs H, W > 3'):
        _bqn(t=1)(torch.randn(6, 3, 48, 48))  # layer3: 3x3 < 7x7 LoG
    with pytest.raises(ValueError, match='filters 3 frames per segment'):
        MotionBandPass(3, 5, snippet=True)
    with pytest.raises(ValueError, match=r'segments \(N\*T, 3, 3, H, W\)'):
        MotionBandPass(3, 3, snippet=True)(torch.randn(2, 4, 3, 9, 9))
    with pytest.raises(ValueError, match='positive odd'):
        log_kernel(1.0, 4)
    with pytest.raises(ValueError, match='sigma must be positive'):
        log_kernel(0.0, 3)
    with pytest.raises(ValueError, match='one LoG size per stage'):
        _bqn(lateral_kernel_sizes=(7, 3))
    with pytest.raises(ValueError, match='temporal_pool'):
        _bqn(temporal_pool=True)


@pytest.mark.parametrize(
    'name,segments,backbone',
    [
        ('bqn/bqn-busy_r18_3x1x8-4e_motion-rgb.py', None, BusyResNetTSM),
        ('bqn/bqn_r18_3x1x8-4e_motion-rgb.py', None, BQNResNet),
        (
            'bqn/bqn-busy_imagenet-pretrained-r50_8xb8-3x1x8-50e_sthv1-rgb.py',
            1,
            BusyResNetTSM,
        ),
        (
            'bqn/bqn_imagenet-pretrained-r50_8xb8-3x1x8-50e_sthv1-rgb.py',
            1,
            BQNResNet,
        ),
    ],
)
def test_configs_build_and_step(name, segments, backbone, testdata_dir):
    model = run_config_steps(name, 3, segments=segments)
    assert type(model.backbone) is backbone
    if segments is None:  # the motion configs, on a real video
        shape = predict_video(model, name, osp.join(testdata_dir, 'test.mp4'))
        assert shape == (24, 3, 64, 64)
