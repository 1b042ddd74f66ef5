import re

import pytest
import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmcv.cnn import ConvModule
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope

from selfy_mmaction.models.blocks.stm import STMBlock
from selfy_mmaction.ops.temporal import TemporalDifferenceUnit

ALL_STAGES = ('layer1', 'layer2', 'layer3', 'layer4')


def _conv3x3(cin, cout, stride=1):
    return ConvModule(
        cin,
        cout,
        3,
        stride=stride,
        padding=1,
        bias=False,
        norm_cfg=dict(type='BN'),
        act_cfg=dict(type='ReLU'),
    )


def _shift_reference(x, t, fractions=(0.25, 0.25)):
    """First C*f0 channels read t+1, next C*f1 read t-1, zero padded."""
    nt, c, h, w = x.shape
    x5 = x.view(nt // t, t, c, h, w)
    fwd, bwd = int(c * fractions[0]), int(c * fractions[1])
    out = x5.clone()
    out[:, :, :fwd] = 0
    out[:, :-1, :fwd] = x5[:, 1:, :fwd]
    out[:, :, fwd : fwd + bwd] = 0
    out[:, 1:, fwd : fwd + bwd] = x5[:, :-1, fwd : fwd + bwd]
    return out.view_as(x)


def _block(cin=32, cout=32, t=4, stride=1, **kwargs):
    block = STMBlock(_conv3x3(cin, cout, stride), num_segments=t, **kwargs)
    block.init_weights()
    return block.double()


@pytest.mark.parametrize('steps', [(1,), (1, -1)])
def test_difference_unit_matches_manual(steps):
    t, c = 3, 32
    unit = TemporalDifferenceUnit(c, t, reduction=8, steps=steps).double()
    unit.init_weights()
    x = torch.randn(2 * t, c, 5, 7, dtype=torch.float64)
    f = F.batch_norm(
        F.conv2d(x, unit.reduce.conv.weight),
        None,
        None,
        training=True,
        eps=unit.reduce.bn.eps,
    )
    g = F.conv2d(f, unit.neighbour_conv.weight, padding=1, groups=4)
    f5, g5 = f.view(2, t, 4, 5, 7), g.view(2, t, 4, 5, 7)
    for step, d in zip(steps, unit(x)):
        d5 = d.view(2, t, 4, 5, 7)
        for i in range(t):
            j = i + step
            expected = g5[:, j] - f5[:, i] if 0 <= j < t else 0 * f5[:, i]
            torch.testing.assert_close(d5[:, i], expected, rtol=0, atol=1e-12)


def test_difference_unit_errors():
    with pytest.raises(ValueError, match='smaller than reduction'):
        TemporalDifferenceUnit(8, 4, reduction=16)
    with pytest.raises(ValueError, match='non-zero'):
        TemporalDifferenceUnit(32, 4, steps=(1, 0))


def test_temporal_conv_at_init_is_the_stm_shift():
    block = _block(t=5)
    x = torch.randn(10, 32, 3, 3, dtype=torch.float64)
    torch.testing.assert_close(
        block.temporal_conv(x), _shift_reference(x, 5), rtol=0, atol=0
    )


@pytest.mark.parametrize('stride', [1, 2])
def test_block_equals_shift_conv_plus_pooled_motion(stride):
    """out = net(shift(x)) + MaxPool(expand(G_{t+1} - F_t)), float64."""
    t = 4
    block = _block(16, 24, t, stride, reduction=4).train()
    x = torch.randn(2 * t, 16, 8, 6, dtype=torch.float64)
    (diff,) = block.difference(x)
    motion = torch.einsum(
        'oc,nchw->nohw', block.expand.weight[:, :, 0, 0], diff
    )
    if stride == 2:  # 2x2 max over non-overlapping windows
        n, c, h, w = motion.shape
        motion = motion.view(n, c, h // 2, 2, w // 2, 2).amax(dim=(3, 5))
    expected = block.net(_shift_reference(x, t)) + motion
    torch.testing.assert_close(block(x), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    't,stride,hw',
    [(1, 1, (5, 5)), (3, 2, (7, 5)), (8, 2, (9, 4)), (6, 1, (4, 11))],
)
def test_block_shapes_match_the_wrapped_conv(t, stride, hw):
    block = _block(32, 48, t, stride)
    x = torch.randn(2 * t, 32, *hw, dtype=torch.float64)
    assert block(x).shape == block.net(x).shape


def test_gradients_reach_every_new_parameter():
    block = _block(t=3, stride=2)
    block(
        torch.randn(6, 32, 7, 7, dtype=torch.float64)
    ).square().sum().backward()
    for name, p in block.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_clear_errors():
    with pytest.raises(TypeError, match='ConvModule'):
        STMBlock(torch.nn.Identity(), num_segments=8)
    with pytest.raises(ValueError, match='smaller than reduction'):
        STMBlock(_conv3x3(8, 8), num_segments=8)
    with pytest.raises(ValueError, match='not a multiple of num_segments=4'):
        _block(t=4)(torch.randn(6, 32, 4, 4, dtype=torch.float64))


def _torchvision_keys(state_dict):
    """MMAction2 ResNet keys -> the torchvision layout its ImageNet loader
    reads (``layer1.0.conv1.conv.weight`` -> ``layer1.0.conv1.weight`` ...)."""
    out = {}
    for key, value in state_dict.items():
        if key.endswith('num_batches_tracked'):  # torchvision V1 has none
            continue
        key = re.sub(r'conv(\d)\.conv\.', r'conv\1.', key)
        key = re.sub(r'conv(\d)\.bn\.', r'bn\1.', key)
        key = key.replace('downsample.conv.', 'downsample.0.')
        out[key.replace('downsample.bn.', 'downsample.1.')] = value
    return out


def test_stm_replaces_all_16_bottlenecks_and_loads_imagenet(tmp_path):
    plain = MODELS.build(dict(type='ResNet', depth=50, pretrained=None))
    plain.init_weights()
    path = str(tmp_path / 'r50.pth')
    torch.save(_torchvision_keys(plain.state_dict()), path)
    backbone = MODELS.build(
        dict(
            type='ResNetWithBlocks',
            depth=50,
            num_segments=4,
            pretrained=path,
            pretrained2d=True,
            blocks=[
                dict(
                    cfg=dict(type='STMBlock'),
                    position='wrap_conv2',
                    layers=ALL_STAGES,
                )
            ],
        )
    )
    backbone.init_weights()  # raises if a ResNet key were not loaded
    blocks = [m for m in backbone.modules() if isinstance(m, STMBlock)]
    assert len(blocks) == 16
    for name in ('layer1.0', 'layer3.2', 'layer4.1'):
        ours = backbone.get_submodule(name).conv2.net
        ref = plain.get_submodule(name).conv2
        torch.testing.assert_close(ours.conv.weight, ref.conv.weight)
        torch.testing.assert_close(ours.bn.running_var, ref.bn.running_var)
    # the inserted layers were initialised after loading: shift pattern
    x = torch.randn(8, 64, 3, 3)
    torch.testing.assert_close(
        blocks[0].temporal_conv(x), _shift_reference(x, 4), rtol=0, atol=0
    )


def test_recognizer_train_and_test_step():
    init_default_scope('mmaction')
    t, classes = 4, 5
    model = MODELS.build(
        dict(
            type='Recognizer2D',
            backbone=dict(
                type='ResNetWithBlocks',
                depth=18,
                num_segments=t,
                pretrained=None,
                pretrained2d=False,
                blocks=[
                    dict(
                        cfg=dict(type='STMBlock'),
                        position='wrap_conv2',
                        layers=ALL_STAGES,
                    )
                ],
            ),
            cls_head=dict(
                type='TSMHead',
                num_classes=classes,
                in_channels=512,
                num_segments=t,
                average_clips='prob',
            ),
            data_preprocessor=dict(
                type='ActionDataPreprocessor', format_shape='NCHW'
            ),
        )
    )
    model.init_weights()
    data = dict(
        inputs=[
            torch.randint(0, 256, (t, 3, 32, 32), dtype=torch.uint8)
            for _ in range(2)
        ],
        data_samples=[ActionDataSample().set_gt_label(i) for i in range(2)],
    )
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    losses = model.train_step(data, optim)
    assert set(losses) >= {'loss_cls'} and torch.isfinite(losses['loss_cls'])
    preds = model.test_step(data)
    assert len(preds) == 2 and preds[0].pred_score.shape == (classes,)
    torch.testing.assert_close(preds[0].pred_score.sum(), torch.tensor(1.0))
