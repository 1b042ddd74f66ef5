import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmcv.cnn import ConvModule
from zoo_helpers import (
    check_config_steps,
    grads_reach_all,
    imagenet_pair,
    single_thread,  # noqa: F401  (autouse fixture)
)

from selfy_mmaction.models.blocks.tsi import (
    TSIMotionExcitation,
    TSITemporalIntegration,
    global_soft_alignment,
)
from selfy_mmaction.ops.temporal import TemporalConv1d

ALL = ('layer1', 'layer2', 'layer3', 'layer4')
TSI_BLOCKS = [
    dict(
        cfg=dict(type='TSIMotionExcitation'),
        position='after_conv1',
        layers=ALL,
    ),
    dict(
        cfg=dict(type='TSITemporalIntegration'),
        position='wrap_conv2',
        layers=ALL,
    ),
]


def _randomise(module):
    """Non-trivial weights everywhere (including zero-initialised BNs and
    gates), eval-mode BN statistics."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 1.5)
            elif isinstance(m, (TemporalConv1d, nn.Linear)):
                for p in m.parameters():
                    p.add_(0.3 * torch.randn_like(p))
    return module.double().eval()


def _conv_module(cin=16, cout=24, stride=1):
    net = ConvModule(
        cin,
        cout,
        3,
        stride=stride,
        padding=1,
        bias=False,
        norm_cfg=dict(type='BN'),
    )
    return net


def _temporal_reference(x, weight, t, dilation):
    """Depthwise temporal conv written as a loop over taps (zero padding)."""
    n = x.shape[0] // t
    x5 = x.view(n, t, *x.shape[1:])
    out = torch.zeros_like(x5)
    k = weight.shape[-1]
    for i in range(t):
        for tap in range(k):
            src = i + (tap - k // 2) * dilation
            if 0 <= src < t:
                out[:, i] += weight[:, 0, tap].view(1, -1, 1, 1) * x5[:, src]
    return out.view_as(x)


@pytest.mark.parametrize('t,dilation', [(8, 2), (5, 3), (2, 1)])
def test_temporal_conv1d_dilation_matches_loop(t, dilation):
    conv = TemporalConv1d(6, t, 3, init='identity', dilation=dilation).double()
    with torch.no_grad():
        conv.weight.normal_()
    x = torch.randn(2 * t, 6, 3, 4, dtype=torch.float64)
    torch.testing.assert_close(
        conv(x),
        _temporal_reference(x, conv.weight, t, dilation),
        rtol=0,
        atol=1e-12,
    )
    shift = TemporalConv1d(
        8, t, 3, init='shift', fractions=(0.25, 0.25), dilation=dilation
    ).double()
    expected = torch.zeros(2, t, 8, 3, 4, dtype=torch.float64)
    x5 = x[:, :1].expand(-1, 8, -1, -1).reshape(2, t, 8, 3, 4)
    for i in range(t):
        if i + dilation < t:
            expected[:, i, :2] = x5[:, i + dilation, :2]
        if i - dilation >= 0:
            expected[:, i, 2:4] = x5[:, i - dilation, 2:4]
    expected[:, :, 4:] = x5[:, :, 4:]
    torch.testing.assert_close(
        shift(x5.reshape(2 * t, 8, 3, 4)),
        expected.view(2 * t, 8, 3, 4),
        rtol=0,
        atol=0,
    )


def _alignment_reference(f, t, scale, window):
    """Costs, weights and aligned frames with explicit loops over
    displacements (zero outside the frame)."""
    n = f.shape[0] // t
    f5 = f.view(n, t, *f.shape[1:])
    unit = f5 / (f5.square().sum(2, keepdim=True) + 1e-6).sqrt()
    h, w = f.shape[-2:]
    r = window // 2
    out = f5.clone()

    def displaced(x, dy, dx):
        """``y(p) = x(p + d)``, zero outside."""
        y = torch.zeros_like(x)
        ys, yd = (
            slice(max(-dy, 0), h - max(dy, 0)),
            slice(max(dy, 0), h - max(-dy, 0)),
        )
        xs, xd = (
            slice(max(-dx, 0), w - max(dx, 0)),
            slice(max(dx, 0), w - max(-dx, 0)),
        )
        y[..., ys, xs] = x[..., yd, xd]
        return y

    shifts = [(dy, dx) for dy in range(-r, r + 1) for dx in range(-r, r + 1)]
    for b in range(n):
        for i in range(t - 1):
            costs = torch.stack(
                [
                    (unit[b, i] * displaced(unit[b, i + 1], dy, dx))
                    .sum(0)
                    .mean()
                    for dy, dx in shifts
                ]
            )
            weights = torch.softmax(scale * costs, 0)
            out[b, i + 1] = sum(
                wt * displaced(f5[b, i + 1], dy, dx)
                for wt, (dy, dx) in zip(weights, shifts)
            )
    return out.view_as(f)


@pytest.mark.parametrize(
    't,hw,window', [(3, (5, 7), 3), (4, (6, 4), 5), (1, (3, 3), 3)]
)
def test_global_alignment_matches_loops(t, hw, window):
    f = torch.randn(2 * t, 4, *hw, dtype=torch.float64)
    scale = torch.tensor(3.0, dtype=torch.float64)
    torch.testing.assert_close(
        global_soft_alignment(f, t, scale, window),
        _alignment_reference(f, t, scale, window),
        rtol=0,
        atol=1e-12,
    )


def test_alignment_undoes_a_global_translation():
    """Frame 1 is frame 0 moved one pixel right: a sharp alignment cancels
    the plain difference almost everywhere."""
    f0 = torch.randn(1, 8, 12, 12, dtype=torch.float64)
    f1 = torch.zeros_like(f0)
    f1[..., 1:] = f0[..., :-1]  # f1(p) = f0(p - (0, 1))
    f = torch.cat([f0, f1])
    aligned = global_soft_alignment(
        f, 2, torch.tensor(200.0, dtype=torch.float64)
    )
    inner = (slice(None), slice(1, -1), slice(1, -1))
    plain = (f1 - f0)[0][inner].abs().mean()
    residual = (aligned[1] - f0[0])[inner].abs().mean()
    assert residual < 0.05 * plain


def _sme_reference(sme, x, t):
    f = F.batch_norm(
        F.conv2d(x, sme.reduce.conv.weight),
        sme.reduce.bn.running_mean,
        sme.reduce.bn.running_var,
        sme.reduce.bn.weight,
        sme.reduce.bn.bias,
        False,
        eps=sme.reduce.bn.eps,
    )
    aligned = _alignment_reference(f, t, sme.align_scale, sme.align_window)
    n = f.shape[0] // t
    f5, a5 = f.view(n, t, *f.shape[1:]), aligned.view(n, t, *f.shape[1:])
    d5 = torch.zeros_like(f5)
    for i in range(t - 1):
        d5[:, i] = a5[:, i + 1] - f5[:, i]
    d = d5.view_as(f)
    h, w = d.shape[-2:]
    levels = []
    for s, conv in zip(sme.scales, sme.pyramid):
        p = F.adaptive_avg_pool2d(d, (-(-h // s), -(-w // s)))
        levels.append(
            F.interpolate(
                F.conv2d(p, conv.weight, padding=1),
                size=(h, w),
                mode='bilinear',
                align_corners=False,
            )
        )
    m = sum(levels) / len(levels)
    g = sme.gate
    a = F.batch_norm(
        F.conv2d(m, g.conv.weight),
        g.bn.running_mean,
        g.bn.running_var,
        g.bn.weight,
        g.bn.bias,
        False,
        eps=g.bn.eps,
    )
    return x + x * (torch.sigmoid(a) - 0.5)


@pytest.mark.parametrize('t,hw', [(3, (9, 7)), (2, (4, 5)), (1, (6, 6))])
def test_sme_matches_reference(t, hw):
    sme = TSIMotionExcitation(32, t, reduction=8)
    sme.init_weights()
    sme = _randomise(sme)
    x = torch.randn(2 * t, 32, *hw, dtype=torch.float64)
    out = sme(x)
    torch.testing.assert_close(
        out, _sme_reference(sme, x, t), rtol=0, atol=1e-12
    )
    assert not torch.allclose(out, x)


def test_sme_and_cti_are_the_identity_at_init():
    t = 3
    sme = TSIMotionExcitation(32, t).double().train()
    sme.init_weights()
    x = torch.randn(2 * t, 32, 7, 5, dtype=torch.float64)
    torch.testing.assert_close(sme(x), x, rtol=0, atol=0)
    net = _conv_module(32, 8).double().eval()
    cti = TSITemporalIntegration(net, t).double()
    cti.init_weights()
    torch.testing.assert_close(cti(x), net(x), rtol=0, atol=1e-12)


def _cti_reference(cti, x, t):
    ys = [
        _temporal_reference(x, b.weight, t, b.dilation[0])
        for b in cti.branches
    ]
    n = x.shape[0] // t
    u = sum(ys).view(n, t, *x.shape[1:]).mean(dim=(1, 3, 4))
    fc1, fc2 = cti.attention[0], cti.attention[2]
    logits = F.linear(
        F.relu(F.linear(u, fc1.weight, fc1.bias)), fc2.weight, fc2.bias
    ).view(n, len(ys), -1)
    a = torch.softmax(logits, 1)
    mixed = sum(
        a[:, k].view(n, 1, -1, 1, 1) * y.view(n, t, *x.shape[1:])
        for k, y in enumerate(ys)
    ).view_as(x)
    return cti.net(mixed)


@pytest.mark.parametrize('t,stride', [(8, 1), (3, 2), (1, 1)])
def test_cti_matches_reference(t, stride):
    cti = TSITemporalIntegration(
        _conv_module(16, 24, stride),
        t,
        branches=((3, 1), (3, 2), (5, 1)),
        min_hidden=4,
    )
    cti.init_weights()
    cti = _randomise(cti)
    x = torch.randn(2 * t, 16, 7, 6, dtype=torch.float64)
    out = cti(x)
    assert out.shape == (2 * t, 24, -(-7 // stride), -(-6 // stride))
    torch.testing.assert_close(
        out, _cti_reference(cti, x, t), rtol=0, atol=1e-12
    )
    assert cti.attention[0].out_features == 4


def test_gradients_reach_every_new_parameter():
    sme = TSIMotionExcitation(32, 3)
    sme.init_weights()
    cti = TSITemporalIntegration(_conv_module(32, 16), 3)
    cti.init_weights()
    x = torch.randn(6, 32, 6, 7, dtype=torch.float64)
    # at init the zero BN of the excitation map blocks the other gradients
    sme.double().train()(x).square().sum().backward()
    assert sme.gate.bn.weight.grad.abs().sum() > 0
    assert sme.reduce.conv.weight.grad.abs().sum() == 0
    for module in (sme, cti):
        module.zero_grad()
        _randomise(module).train()
        grads_reach_all(module, x)


def test_tsi_resnet50_is_the_imagenet_resnet_at_init(tmp_path):
    plain, tsi = imagenet_pair(tmp_path, 50, TSI_BLOCKS, num_segments=2)
    assert sum(isinstance(m, TSIMotionExcitation) for m in tsi.modules()) == 16
    assert (
        sum(isinstance(m, TSITemporalIntegration) for m in tsi.modules()) == 16
    )
    plain.eval()
    tsi.eval()
    x = torch.randn(4, 3, 35, 29, dtype=torch.float64)
    torch.testing.assert_close(tsi(x), plain(x), rtol=0, atol=1e-10)
    # a trained gate changes the output (the comparison can fail)
    with torch.no_grad():
        tsi.layer2[0].conv1.insert.gate.bn.bias.fill_(1.0)
    assert not torch.allclose(tsi(x), plain(x))


@pytest.mark.parametrize(
    'depth,t,hw', [(50, 3, (47, 33)), (50, 1, (32, 32)), (18, 8, (65, 39))]
)
def test_shapes(depth, t, hw):
    net = MODELS.build(
        dict(
            type='ResNetWithBlocks',
            depth=depth,
            num_segments=t,
            pretrained=None,
            pretrained2d=False,
            blocks=TSI_BLOCKS,
        )
    )
    net.init_weights()
    with torch.no_grad():
        out = net(torch.randn(2 * t, 3, *hw))
    channels = 2048 if depth == 50 else 512
    assert out.shape == (2 * t, channels, -(-hw[0] // 32), -(-hw[1] // 32))


def test_clear_errors():
    with pytest.raises(ValueError, match='smaller than reduction'):
        TSIMotionExcitation(8, 2, reduction=16)
    with pytest.raises(ValueError, match='align_window'):
        TSIMotionExcitation(32, 2, align_window=4)
    with pytest.raises(ValueError, match='scales'):
        TSIMotionExcitation(32, 2, scales=(1, 0))
    with pytest.raises(TypeError, match='ConvModule'):
        TSITemporalIntegration(nn.Identity(), 2)
    with pytest.raises(ValueError, match='at least two branches'):
        TSITemporalIntegration(_conv_module(), 2, branches=((3, 1),))
    with pytest.raises(ValueError, match='dilation must be >= 1'):
        TSITemporalIntegration(_conv_module(), 2, branches=((3, 1), (3, 0)))
    sme = TSIMotionExcitation(32, 3)
    with pytest.raises(ValueError, match=r'not a multiple of num_segments=3'):
        sme(torch.randn(4, 32, 5, 5))


@pytest.mark.parametrize(
    'name',
    [
        'tsi/tsi_r18_1x1x8-4e_motion-rgb.py',
        'tsi/tsi_imagenet-pretrained-r50_8xb8-1x1x8-50e_sthv1-rgb.py',
    ],
)
def test_configs_build_and_step(name):
    model = check_config_steps(name)
    assert type(model.backbone).__name__ == 'ResNetWithBlocks'
    assert not model.backbone.is_shift
    assert len(
        [m for m in model.modules() if isinstance(m, TSIMotionExcitation)]
    ) in (8, 16)
