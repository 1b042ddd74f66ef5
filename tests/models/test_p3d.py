import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmcv.cnn import ConvModule
from zoo_helpers import (
    check_config_steps,
    count_params,
    grads_reach_all,
    imagenet_pair,
    single_thread,  # noqa: F401  (autouse fixture)
)

from selfy_mmaction.models.blocks.p3d import (
    P3DBlock,
    p3d_blocks,
    p3d_cycle_indices,
)


def _conv3x3(cin, cout, stride=1, act=True):
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


def _block(block_type, cin=8, cout=8, t=4, stride=1, act=True, **kwargs):
    block = P3DBlock(
        _conv3x3(cin, cout, stride, act), t, block_type=block_type, **kwargs
    )
    block.init_weights()
    return block.double().train()


def _temporal_ref(x, weight, t, stride=1):
    """y_t = sum_j W[:, :, j] x_{t+j-k//2} (zero outside), on the spatially
    subsampled frames; weight (C_out, C_in, k)."""
    x = x[:, :, ::stride, ::stride]
    nt, c, h, w = x.shape
    x5 = x.reshape(nt // t, t, c, h, w)
    k = weight.shape[2]
    out = []
    for i in range(t):
        acc = 0
        for j in range(k):
            src = i + j - k // 2
            if 0 <= src < t:
                acc = acc + torch.einsum(
                    'oc,nchw->nohw', weight[:, :, j], x5[:, src]
                )
        out.append(
            acc
            if torch.is_tensor(acc)
            else x5.new_zeros(nt // t, weight.shape[0], h, w)
        )
    return torch.stack(out, 1).reshape(nt, -1, h, w)


def _bn(x, bn):
    return F.batch_norm(
        x, None, None, bn.weight, bn.bias, training=True, eps=bn.eps
    )


def _randomise_norms(block):
    with torch.no_grad():
        for m in block.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_()


def test_cycle_indices():
    r50 = p3d_cycle_indices((3, 4, 6, 3))
    assert r50['A'] == ((1, 0, 0), (1, 0, 0, 1), (0, 0, 1, 0, 0, 1), (0, 0, 0))
    assert r50['B'] == ((0, 1, 0), (0, 1, 0, 0), (1, 0, 0, 1, 0, 0), (0, 0, 0))
    assert r50['C'] == ((0, 0, 1), (0, 0, 1, 0), (0, 1, 0, 0, 1, 0), (0, 0, 0))
    r152 = p3d_cycle_indices((3, 8, 36, 3))  # P3D-199: 47 T convs, 4b35 B
    assert sum(map(sum, (m for v in r152.values() for m in v))) == 47
    assert r152['B'][2][-1] == 1
    with pytest.raises(ValueError, match='cycle_stages must be in 1..4'):
        p3d_cycle_indices((3, 4, 6, 3), cycle_stages=5)


@pytest.mark.parametrize('stride,hw', [(1, (5, 6)), (2, (7, 4))])
def test_block_formulas(stride, hw):
    t = 3
    x = torch.randn(2 * t, 8, *hw, dtype=torch.float64)
    a = _block('A', stride=stride, t=t)
    with torch.no_grad():
        a.temporal.conv.weight.normal_()
    w_a = a.temporal.conv.weight[..., 0, 0]
    y = F.conv2d(x, a.net.conv.weight, stride=stride, padding=1)
    expected = F.relu(_bn(_temporal_ref(y, w_a, t), a.net.bn))
    torch.testing.assert_close(a(x), expected, rtol=0, atol=1e-10)

    b = _block('B', cout=12, stride=stride, t=t)
    _randomise_norms(b)
    w_b = b.temporal.conv.weight[..., 0, 0]
    s = b.net(x)
    expected = F.relu(
        s + _bn(_temporal_ref(x, w_b, t, stride), b.temporal_norm)
    )
    torch.testing.assert_close(b(x), expected, rtol=0, atol=1e-10)

    c = _block('C', stride=stride, t=t)
    _randomise_norms(c)
    s = c.net(x)
    expected = F.relu(
        s
        + _bn(
            _temporal_ref(s, c.temporal.conv.weight[..., 0, 0], t),
            c.temporal_norm,
        )
    )
    torch.testing.assert_close(c(x), expected, rtol=0, atol=1e-10)

    proto = _block('A', stride=stride, t=t, a_inner_norm=True)
    _randomise_norms(proto)
    s = proto.net(x)
    expected = F.relu(
        _bn(
            _temporal_ref(s, proto.temporal.conv.weight[..., 0, 0], t),
            proto.temporal_norm,
        )
    )
    torch.testing.assert_close(proto(x), expected, rtol=0, atol=1e-10)


@pytest.mark.parametrize('block_type', ['A', 'B', 'C'])
@pytest.mark.parametrize('act', [True, False])
def test_each_type_starts_as_the_wrapped_conv(block_type, act):
    block = _block(block_type, 8, 16, t=5, stride=2, act=act)
    x = torch.randn(10, 8, 9, 7, dtype=torch.float64)
    torch.testing.assert_close(block(x), block.net(x), rtol=0, atol=1e-12)
    block.eval()
    torch.testing.assert_close(block(x), block.net(x), rtol=0, atol=1e-12)


def test_prototxt_a_is_not_the_identity_at_init():
    block = _block('A', a_inner_norm=True)
    x = torch.randn(8, 8, 4, 4, dtype=torch.float64)
    assert not torch.allclose(block(x), block.net(x))


@pytest.mark.parametrize(
    'depth,position,stage_blocks',
    [(50, 'wrap_conv2', (3, 4, 6, 3)), (18, 'wrap_conv1', (2, 2, 2, 2))],
)
def test_p3d_resnet_at_init_is_the_2d_resnet(
    tmp_path, depth, position, stage_blocks
):
    """ImageNet weights loaded into P3D (A/B/C cycle through res2-res4) give
    exactly the 2D ResNet, in train and in eval mode."""
    t = 4
    plain, p3d = imagenet_pair(
        tmp_path, depth, p3d_blocks(stage_blocks, position), num_segments=t
    )
    blocks = [m for m in p3d.modules() if isinstance(m, P3DBlock)]
    assert len(blocks) == sum(stage_blocks[:3])
    assert [b.block_type for b in blocks[:4]] == ['A', 'B', 'C', 'A']
    x = torch.randn(2 * t, 3, 21, 27, dtype=torch.float64)
    for mode in (True, False):
        plain.train(mode)
        p3d.train(mode)
        torch.testing.assert_close(p3d(x), plain(x), rtol=0, atol=1e-9)


def test_r50_parameter_count():
    """T adds 3 m^2 per block (+2m for B/C's BN): res2-res4 of ResNet-50."""
    plain = MODELS.build(
        dict(
            type='ResNetWithBlocks',
            depth=50,
            pretrained=None,
            pretrained2d=False,
        )
    )
    p3d = MODELS.build(
        dict(
            type='ResNetWithBlocks',
            depth=50,
            pretrained=None,
            pretrained2d=False,
            blocks=p3d_blocks((3, 4, 6, 3)),
        )
    )
    expected = 0
    for m, n in ((64, 3), (128, 4), (256, 6)):
        expected += n * 3 * m * m
    expected += 2 * (64 * 2 + 128 * 2 + 256 * 4)  # 8 B/C blocks' BN
    assert count_params(p3d) - count_params(plain) == expected


@pytest.mark.parametrize('block_type', ['A', 'B', 'C'])
def test_gradients_reach_every_parameter(block_type):
    block = _block(block_type, 8, 16, t=3, stride=2)
    _randomise_norms(block)  # zero-gamma BN_T would stop T's gradient
    grads_reach_all(block, torch.randn(6, 8, 5, 5, dtype=torch.float64))


@pytest.mark.parametrize('t,hw', [(1, (3, 3)), (7, (5, 2)), (16, (1, 1))])
def test_shapes(t, hw):
    for block_type in 'ABC':
        block = _block(block_type, 8, 16, t=t, stride=2)
        x = torch.randn(2 * t, 8, *hw, dtype=torch.float64)
        assert block(x).shape == block.net(x).shape


def test_clear_errors():
    with pytest.raises(ValueError, match='block_type must be one of'):
        P3DBlock(_conv3x3(8, 8), 4, block_type='D')
    with pytest.raises(ValueError, match='type A only'):
        P3DBlock(_conv3x3(8, 8), 4, block_type='B', a_inner_norm=True)
    with pytest.raises(TypeError, match='is_shift=False'):
        MODELS.build(
            dict(
                type='ResNetTSMWithBlocks',
                depth=18,
                pretrained=None,
                pretrained2d=False,
                blocks=p3d_blocks((2, 2, 2, 2), 'wrap_conv1'),
            )
        )
    with pytest.raises(ValueError, match='not a multiple of num_segments=4'):
        _block('C')(torch.randn(6, 8, 3, 3, dtype=torch.float64))


@pytest.mark.parametrize(
    'name',
    [
        'p3d/p3d_r18_1x1x8-4e_motion-rgb.py',
        'p3d/p3d_imagenet-pretrained-r50_8xb8-1x1x8-50e_sthv1-rgb.py',
    ],
)
def test_configs_build_and_step(name):
    model = check_config_steps(name)
    blocks = [m for m in model.modules() if isinstance(m, P3DBlock)]
    assert len(blocks) in (6, 13)
    depth = model.backbone.depth
    stage_blocks = {18: (2, 2, 2, 2), 50: (3, 4, 6, 3)}[depth]
    assert [e for e in model.backbone.block_cfgs] == p3d_blocks(
        stage_blocks, 'wrap_conv1' if depth == 18 else 'wrap_conv2'
    )
