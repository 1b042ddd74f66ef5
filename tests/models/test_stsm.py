import pytest
import torch
import torch.nn as nn
from mmaction.models.backbones.resnet_tsm import TemporalShift
from mmaction.registry import MODELS
from zoo_helpers import (
    check_config_steps,
    count_params,
    single_thread,  # noqa: F401  (autouse fixture)
)

from selfy_mmaction.models.blocks.stsm import SpatioTemporalShift
from selfy_mmaction.ops.shift import spatiotemporal_shift

ALL_STAGES = ('layer1', 'layer2', 'layer3', 'layer4')


def _shift_reference(x, t, groups):
    """Element by element: channel c of group (dt, dh, dw) at (t, h, w)
    reads (t+dt, h+dh, w+dw), zero outside; other channels unchanged."""
    nt, c, h, w = x.shape
    x5 = x.view(nt // t, t, c, h, w)
    out = torch.zeros_like(x5)
    offsets = [off for n, off in groups for _ in range(n)]
    offsets += [(0, 0, 0)] * (c - len(offsets))
    for ch, (dt, dh, dw) in enumerate(offsets):
        for i in range(t):
            for j in range(h):
                for k in range(w):
                    a, b, d = i + dt, j + dh, k + dw
                    if 0 <= a < t and 0 <= b < h and 0 <= d < w:
                        out[:, i, ch, j, k] = x5[:, a, ch, b, d]
    return out.view_as(x)


@pytest.mark.parametrize(
    't,c,div,hw',
    [
        (8, 64, 8, (3, 3)),
        (3, 20, 4, (5, 2)),
        (1, 16, 8, (2, 2)),
        (5, 13, 3, (1, 4)),
    ],
)
def test_without_spatial_shift_it_is_mmaction_tsm(t, c, div, hw):
    x = torch.randn(2 * t, c, *hw, dtype=torch.float64)
    stsm = SpatioTemporalShift(
        nn.Identity(), t, shift_div=div, spatial_div=None
    )
    torch.testing.assert_close(
        stsm(x), TemporalShift.shift(x, t, div), rtol=0, atol=0
    )


@pytest.mark.parametrize(
    't,c,hw', [(4, 32, (3, 5)), (2, 17, (1, 3)), (3, 48, (4, 1))]
)
def test_spatiotemporal_groups_match_elementwise_reference(t, c, hw):
    stsm = SpatioTemporalShift(nn.Identity(), t)  # defaults 8, 16
    x = torch.randn(2 * t, c, *hw, dtype=torch.float64)
    groups = stsm.groups(c)
    fold, sfold = c // 8, c // 16
    assert groups == [
        (fold, (1, 0, 0)),
        (fold, (-1, 0, 0)),
        (sfold, (0, 1, 0)),
        (sfold, (0, -1, 0)),
        (sfold, (0, 0, 1)),
        (sfold, (0, 0, -1)),
    ]
    torch.testing.assert_close(
        stsm(x), _shift_reference(x, t, groups), rtol=0, atol=0
    )


def test_general_offsets_and_no_parameters():
    groups = [(2, (2, -1, 0)), (1, (-1, 1, 1)), (3, (0, 0, -2))]
    x = torch.randn(6, 8, 4, 5, dtype=torch.float64)
    torch.testing.assert_close(
        spatiotemporal_shift(x, 3, groups),
        _shift_reference(x, 3, groups),
        rtol=0,
        atol=0,
    )
    assert count_params(SpatioTemporalShift(nn.Identity(), 8)) == 0


def test_gradient_is_the_inverse_shift():
    """Zero parameters, but the shift passes gradients: the gradient of
    <shift(x), g> w.r.t. x is the reverse shift of g."""
    t, groups = 4, [(3, (1, 0, 0)), (2, (0, -1, 1))]
    x = torch.randn(8, 6, 3, 3, dtype=torch.float64, requires_grad=True)
    g = torch.randn_like(x)
    (spatiotemporal_shift(x, t, groups) * g).sum().backward()
    reverse = [(n, tuple(-d for d in off)) for n, off in groups]
    torch.testing.assert_close(
        x.grad, spatiotemporal_shift(g, t, reverse), rtol=0, atol=0
    )


def test_clear_errors():
    with pytest.raises(ValueError, match='more than the 8 channels'):
        SpatioTemporalShift(nn.Identity(), 2, shift_div=2, spatial_div=4)(
            torch.randn(4, 8, 3, 3)
        )
    with pytest.raises(ValueError, match='not a multiple of num_segments=3'):
        SpatioTemporalShift(nn.Identity(), 3)(torch.randn(4, 16, 3, 3))
    with pytest.raises(ValueError, match='shift_div must be >= 1'):
        SpatioTemporalShift(nn.Identity(), 3, shift_div=0)
    with pytest.raises(ValueError, match='spatial_div must be >= 1'):
        SpatioTemporalShift(nn.Identity(), 3, spatial_div=0)
    with pytest.raises(ValueError, match=r'\(dt, dh, dw\)'):
        spatiotemporal_shift(torch.randn(2, 4, 2, 2), 2, [(1, (1, 0))])


def _tsm_key(key):
    """Our wrap_conv1 keys -> ResNetTSM's (shift wraps conv1.conv)."""
    return key.replace('conv1.net.conv.', 'conv1.conv.net.').replace(
        'conv1.net.bn.', 'conv1.bn.'
    )


@pytest.mark.parametrize('depth', [18, 50])
def test_backbone_without_spatial_shift_equals_resnet_tsm(depth):
    """wrap_conv1 on every block of ResNetTSMWithBlocks(is_shift=False) is
    TSM's blockres placement: same outputs as MMAction2's ResNetTSM."""
    t = 3
    ours = MODELS.build(
        dict(
            type='ResNetTSMWithBlocks',
            depth=depth,
            num_segments=t,
            is_shift=False,
            pretrained=None,
            pretrained2d=False,
            blocks=[
                dict(
                    cfg=dict(type='SpatioTemporalShift', spatial_div=None),
                    position='wrap_conv1',
                    layers=ALL_STAGES,
                )
            ],
        )
    )
    tsm = MODELS.build(
        dict(
            type='ResNetTSM',
            depth=depth,
            num_segments=t,
            pretrained=None,
            pretrained2d=False,
        )
    )
    tsm.load_state_dict({_tsm_key(k): v for k, v in ours.state_dict().items()})
    ours.double().eval()
    tsm.double().eval()
    x = torch.randn(2 * t, 3, 19, 25, dtype=torch.float64)
    torch.testing.assert_close(ours(x), tsm(x), rtol=0, atol=0)
    shifts = [m for m in ours.modules() if isinstance(m, SpatioTemporalShift)]
    assert len(shifts) == {18: 8, 50: 16}[depth]


@pytest.mark.parametrize(
    'name',
    [
        'stsm/stsm_r18_1x1x8-4e_motion-rgb.py',
        'stsm/stsm_imagenet-pretrained-r50_8xb8-1x1x8-50e_sthv1-rgb.py',
    ],
)
def test_configs_build_and_step(name):
    model = check_config_steps(name)
    assert not model.backbone.is_shift
    shifts = [m for m in model.modules() if isinstance(m, SpatioTemporalShift)]
    assert len(shifts) in (8, 16) and shifts[0].spatial_div == 16
