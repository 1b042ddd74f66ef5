import math

import pytest
import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmcv.cnn import ConvModule
from mmengine.registry import init_default_scope
from zoo_helpers import (
    _torchvision_keys,
    build_optim_wrapper,
    check_config_steps,
    count_params,
    grads_reach_all,
    single_thread,  # noqa: F401  (autouse fixture)
)

from selfy_mmaction.models.backbones.cost import ResNet3dCoST
from selfy_mmaction.models.blocks.cost import COST_INDICES_R50, CoSTConv
from selfy_mmaction.ops.factorised import shared_kernel_views

HW_ONLY = (0.0, -math.inf, -math.inf)


def _conv(cin, cout, stride=1, three_d=False, act=True):
    if three_d:
        return ConvModule(
            cin,
            cout,
            (1, 3, 3),
            stride=(1, stride, stride),
            padding=(0, 1, 1),
            bias=False,
            conv_cfg=dict(type='Conv3d'),
            norm_cfg=dict(type='BN3d'),
            act_cfg=dict(type='ReLU') if act else None,
        )
    return ConvModule(
        cin,
        cout,
        3,
        stride=stride,
        padding=1,
        bias=False,
        norm_cfg=dict(type='BN'),
        act_cfg=dict(type='ReLU') if act else None,
    )


def _block(variant='a', cin=8, cout=8, t=4, stride=1, three_d=False, **kwargs):
    block = CoSTConv(
        _conv(cin, cout, stride, three_d),
        None if three_d else t,
        variant=variant,
        **kwargs,
    )
    block.init_weights()
    return block.double().train()


def _planes_reference(x, w, s):
    """Each view as ordinary 2D convs over the planes of the volume:
    H-W per frame, T-W per row h, T-H per column w (kernel rows along T)."""
    n, c, t, h, wd = x.shape
    co = w.shape[0]
    hw = F.conv2d(
        x.transpose(1, 2).reshape(n * t, c, h, wd), w, stride=s, padding=1
    )
    hw = hw.view(n, t, co, *hw.shape[2:]).transpose(1, 2)
    tw = F.conv2d(
        x.permute(0, 3, 1, 2, 4).reshape(n * h, c, t, wd),
        w,
        stride=(1, s),
        padding=1,
    )
    tw = tw.view(n, h, co, t, -1).permute(0, 2, 3, 1, 4)[:, :, :, ::s]
    th = F.conv2d(
        x.permute(0, 4, 1, 2, 3).reshape(n * wd, c, t, h),
        w,
        stride=(1, s),
        padding=1,
    )
    th = th.view(n, wd, co, t, -1).permute(0, 2, 3, 4, 1)[..., ::s]
    return hw, tw, th


@pytest.mark.parametrize(
    's,shape', [(1, (2, 5, 3, 4, 6)), (2, (1, 4, 5, 7, 5))]
)
def test_shared_kernel_views_are_convs_over_planes(s, shape):
    x = torch.randn(*shape, dtype=torch.float64)
    w = torch.randn(6, shape[1], 3, 3, dtype=torch.float64)
    ours = shared_kernel_views(x, w, (1, s, s))
    for a, b in zip(ours, _planes_reference(x, w, s)):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)
    # a (C_out, C_in, 1, k, k) Conv3d weight gives the same views
    for a, b in zip(ours, shared_kernel_views(x, w.unsqueeze(2), (1, s, s))):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize('three_d', [False, True])
@pytest.mark.parametrize('stride', [1, 2])
def test_cost_a_all_on_hw_is_the_2d_conv(three_d, stride):
    t = 3
    block = _block('a', 8, 12, t, stride, three_d, init_logits=HW_ONLY)
    x = torch.randn(2, 8, t, 7, 6, dtype=torch.float64)
    if not three_d:
        x = x.transpose(1, 2).reshape(2 * t, 8, 7, 6)
    for mode in (True, False):
        block.train(mode)
        torch.testing.assert_close(block(x), block.net(x), rtol=0, atol=1e-12)


def test_cost_a_formula_and_init():
    t = 4
    block = _block('a', 8, 8, t)
    coeffs = block.view_coefficients(None)[:, 0]  # (3, C)
    e = math.exp(1.4)
    expected = torch.tensor(
        [e / (e + 2), 1 / (e + 2), 1 / (e + 2)], dtype=torch.float64
    )
    torch.testing.assert_close(coeffs, expected[:, None].expand(3, 8))
    with torch.no_grad():
        block.view_logits.weight.normal_()
    x = torch.randn(2 * t, 8, 5, 5, dtype=torch.float64)
    x5 = x.view(2, t, 8, 5, 5).transpose(1, 2)
    views = _planes_reference(x5, block.net.conv.weight, 1)
    a = block.view_logits.weight.view(3, 8).softmax(0)
    y = sum(a[i].view(1, 8, 1, 1, 1) * views[i] for i in range(3))
    y = y.transpose(1, 2).reshape(2 * t, 8, 5, 5)
    torch.testing.assert_close(
        block(x), block.net.activate(block.net.bn(y)), rtol=0, atol=1e-12
    )


def test_cost_b_formula_per_sample():
    t, n, c = 3, 2, 8
    block = _block('b', 8, c, t)
    with torch.no_grad():  # larger than N(0, 0.01): a visible softmax
        block.channel_fc.weight.normal_()
        block.view_fc.weight.normal_()
    x = torch.randn(n * t, 8, 5, 4, dtype=torch.float64)
    x5 = x.view(n, t, 8, 5, 4).transpose(1, 2)
    views = _planes_reference(x5, block.net.conv.weight, 1)
    pooled = torch.stack([v.flatten(2).max(-1).values for v in views])
    hidden = torch.einsum('dc,vnc->vnd', block.channel_fc.weight, pooled)
    logits = torch.einsum('uv,vnc->unc', block.view_fc.weight, hidden)
    a = logits.softmax(0)
    assert not torch.allclose(a[:, 0], a[:, 1])  # per sample
    y = sum(a[i].view(n, c, 1, 1, 1) * views[i] for i in range(3))
    y = y.transpose(1, 2).reshape(n * t, c, 5, 4)
    torch.testing.assert_close(
        block(x), block.net.activate(block.net.bn(y)), rtol=0, atol=1e-12
    )


@pytest.mark.parametrize('variant', ['a', 'b'])
@pytest.mark.parametrize(
    't,stride,hw', [(1, 1, (3, 3)), (5, 2, (7, 4)), (8, 2, (1, 2))]
)
def test_shapes_match_the_wrapped_conv(variant, t, stride, hw):
    block = _block(variant, 8, 16, t, stride)
    x = torch.randn(2 * t, 8, *hw, dtype=torch.float64)
    assert block(x).shape == block.net(x).shape


@pytest.mark.parametrize('variant', ['a', 'b'])
@pytest.mark.parametrize('three_d', [False, True])
def test_gradients_reach_every_parameter(variant, three_d):
    block = _block(variant, 8, 8, 3, 2, three_d)
    shape = (2, 8, 3, 5, 5) if three_d else (6, 8, 5, 5)
    grads_reach_all(block, torch.randn(*shape, dtype=torch.float64))


def test_clear_errors():
    with pytest.raises(ValueError, match='variant must be one of'):
        CoSTConv(_conv(8, 8), 4, variant='c')
    with pytest.raises(ValueError, match='needs num_segments'):
        CoSTConv(_conv(8, 8), None)
    with pytest.raises(ValueError, match='square odd k x k'):
        CoSTConv(
            ConvModule(
                8,
                8,
                (3, 1, 1),
                padding=(1, 0, 0),
                conv_cfg=dict(type='Conv3d'),
                bias=False,
                norm_cfg=dict(type='BN3d'),
            )
        )
    with pytest.raises(TypeError, match='is_shift=False'):
        MODELS.build(
            dict(
                type='ResNetTSMWithBlocks',
                depth=18,
                pretrained=None,
                pretrained2d=False,
                blocks=[
                    dict(cfg=dict(type='CoSTConv'), position='wrap_conv1')
                ],
            )
        )
    with pytest.raises(ValueError, match='not a multiple of num_segments=4'):
        _block()(torch.randn(6, 8, 3, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match='fixes inflate=0'):
        ResNet3dCoST(inflate=1)
    with pytest.raises(ValueError, match='depth >= 50'):
        ResNet3dCoST(depth=18)
    with pytest.raises(ValueError, match=r'\(3, 4, 6, 3\) entries'):
        ResNet3dCoST(cost_indices=((1,), (1,), (1,), (1,)))


@pytest.mark.parametrize(
    'variant,extra',
    [
        ('a', 3 * (64 + 2 * 128 + 3 * 256 + 2 * 512)),
        ('b', 64**2 + 2 * 128**2 + 3 * 256**2 + 2 * 512**2 + 8 * 9),
    ],
)
def test_r50_parameters_and_tsm_optim_constructor(variant, extra):
    init_default_scope('mmaction')

    def recognizer(blocks):
        return MODELS.build(
            dict(
                type='Recognizer2D',
                backbone=dict(
                    type='ResNetWithBlocks',
                    depth=50,
                    num_segments=2,
                    pretrained=None,
                    pretrained2d=False,
                    blocks=blocks,
                ),
                cls_head=dict(
                    type='TSMHead',
                    num_classes=3,
                    in_channels=2048,
                    num_segments=2,
                ),
            )
        )

    model = recognizer(
        [
            dict(
                cfg=dict(type='CoSTConv', variant=variant),
                position='wrap_conv2',
                layers=('layer1', 'layer2', 'layer3', 'layer4'),
                indices=COST_INDICES_R50,
            )
        ]
    )
    assert count_params(model) - count_params(recognizer([])) == extra
    assert len([m for m in model.modules() if isinstance(m, CoSTConv)]) == 8
    build_optim_wrapper(model, 'TSMOptimWrapperConstructor')


def test_resnet3d_cost_inflates_imagenet_and_reduces_to_the_2d_resnet(
    tmp_path,
):
    """With every CoST(a) on H-W, a 1x7x7 stem and no temporal pooling, the
    3D network with inflated ImageNet weights is the 2D ResNet per frame."""
    plain = MODELS.build(dict(type='ResNet', depth=50, pretrained=None))
    plain.init_weights()
    with torch.no_grad():
        for m in plain.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_()
                m.running_mean.normal_()
                m.running_var.uniform_(0.5, 1.5)
    path = str(tmp_path / 'r50.pth')
    torch.save(_torchvision_keys(plain.state_dict()), path)
    cost = ResNet3dCoST(
        pretrained=path,
        pretrained2d=True,
        conv1_kernel=(1, 7, 7),
        with_pool2=False,
        cost_cfg=dict(init_logits=HW_ONLY),
    )
    cost.init_weights()
    assert len(cost._cost_blocks()) == 8
    block = cost.layer2[0]
    assert isinstance(block.conv2, CoSTConv)
    torch.testing.assert_close(
        block.conv2.net.conv.weight[:, :, 0], plain.layer2[0].conv2.conv.weight
    )
    plain.double().eval()
    cost.double().eval()
    x = torch.randn(2, 3, 3, 19, 25, dtype=torch.float64)
    expected = plain(x.transpose(1, 2).reshape(6, 3, 19, 25))
    expected = expected.view(2, 3, *expected.shape[1:]).transpose(1, 2)
    torch.testing.assert_close(cost(x), expected, rtol=0, atol=1e-9)


def test_resnet3d_cost_scratch_init_and_temporal_pool():
    cost = ResNet3dCoST(variant='b', pretrained=None)
    cost.init_weights()
    fc = cost.layer1[1].conv2.channel_fc.weight
    assert 0.005 < fc.std() < 0.02  # N(0, 0.01)
    out = cost(torch.randn(1, 3, 8, 32, 32))
    assert out.shape == (1, 2048, 4, 1, 1)  # with_pool2: T 8 -> 4


@pytest.mark.parametrize(
    'name',
    [
        'cost/cost-a_r18_1x1x8-4e_motion-rgb.py',
        'cost/cost-b_r18_1x1x8-4e_motion-rgb.py',
        'cost/cost-b_imagenet-pretrained-r50_8xb8-1x1x8-50e_sthv1-rgb.py',
        'cost/cost-b_imagenet-pretrained-r50-3d_8xb8-8x1x1-50e_sthv1-rgb.py',
    ],
)
def test_configs_build_and_step(name):
    model = check_config_steps(name)
    assert len([m for m in model.modules() if isinstance(m, CoSTConv)]) in (
        4,
        8,
    )
