import pytest
import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmcv.cnn import ConvModule
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope

from selfy_mmaction.models.blocks.tada import TAda2DBlock

ALL_STAGES = ('layer1', 'layer2', 'layer3', 'layer4')
TADA = [
    dict(
        cfg=dict(type='TAda2DBlock'), position='wrap_conv2', layers=ALL_STAGES
    )
]


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


def _block(cin=16, cout=24, t=4, stride=1, **kwargs):
    block = TAda2DBlock(_conv3x3(cin, cout, stride), num_segments=t, **kwargs)
    block.init_weights()
    return block.double()


def _randomise(block):
    """Leave the identity init: random routing output and BN2."""
    with torch.no_grad():
        block.routing.expand.weight.normal_(0, 0.3)
        block.temporal_bn.weight.uniform_(0.5, 1.5)
        block.temporal_bn.bias.normal_()


@pytest.mark.parametrize(
    't,stride,hw,train',
    [
        (1, 1, (5, 5), True),
        (3, 2, (7, 5), True),
        (8, 2, (6, 9), False),
        (5, 1, (4, 3), False),
    ],
)
def test_block_at_init_is_exactly_the_wrapped_conv(t, stride, hw, train):
    block = _block(t=t, stride=stride).train(train)
    if not train:  # non-trivial running statistics
        with torch.no_grad():
            block.net.bn.running_mean.normal_()
            block.net.bn.running_var.uniform_(0.5, 2)
    x = torch.randn(2 * t, 16, *hw, dtype=torch.float64)
    torch.testing.assert_close(block(x), block.net(x), rtol=0, atol=0)


def test_block_is_the_calibrated_conv_plus_temporal_aggregation():
    """Per-frame weights alpha_t * W_b, then ReLU(BN1(Y) + BN2(pool_T(Y)))
    with a zero-padded 3-frame mean, against explicit loops."""
    t, n = 4, 2
    block = _block(t=t, stride=2).train()
    _randomise(block)
    x = torch.randn(n * t, 16, 7, 6, dtype=torch.float64)
    alpha = block.routing(x.view(n, t, 16, 7, 6).transpose(1, 2))
    assert not torch.allclose(alpha, torch.ones_like(alpha))
    w = block.net.conv.weight
    y = torch.cat(
        [
            F.conv2d(
                x[i * t + j : i * t + j + 1],
                w * alpha[i, :, j].view(1, -1, 1, 1),
                stride=2,
                padding=1,
            )
            for i in range(n)
            for j in range(t)
        ]
    )
    y5 = y.view(n, t, *y.shape[1:])
    pooled = torch.stack(
        [
            sum(y5[:, k] for k in (j - 1, j, j + 1) if 0 <= k < t) / 3
            for j in range(t)
        ],
        1,
    ).view_as(y)
    expected = F.relu(block.net.bn(y) + block.temporal_bn(pooled))
    torch.testing.assert_close(block(x), expected, rtol=1e-10, atol=1e-10)


def test_routing_matches_its_definition():
    block = _block(t=5)
    _randomise(block)
    r = block.routing.double().eval()
    with torch.no_grad():
        r.bn.running_mean.normal_()
    x = torch.randn(2, 16, 5, 3, 4, dtype=torch.float64)
    v = x.mean((3, 4))
    g = x.mean((2, 3, 4))
    context = (
        v
        + (r.global_proj.weight[:, :, 0] @ g.T).T[..., None]
        + r.global_proj.bias[:, None]
    )
    hidden = F.relu(
        r.bn(F.conv1d(context, r.reduce.weight, r.reduce.bias, padding=1))
    )
    expected = 1 + F.conv1d(hidden, r.expand.weight, padding=1)
    torch.testing.assert_close(r(x), expected, rtol=1e-12, atol=1e-12)


def test_gradients_reach_every_new_parameter():
    block = _block(t=3, stride=2)
    x = torch.randn(6, 16, 5, 5, dtype=torch.float64)
    block(x).square().sum().backward()
    # at init only the zero-initialised layers get gradients (the routing
    # MLP sits behind a zero conv) ...
    for p in (
        block.routing.expand.weight,
        block.temporal_bn.weight,
        block.temporal_bn.bias,
    ):
        assert p.grad.abs().sum() > 0
    # ... once they move, every new parameter learns
    _randomise(block)
    block.zero_grad()
    block(x).square().sum().backward()
    for name, p in block.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_clear_errors():
    with pytest.raises(TypeError, match='ConvModule'):
        TAda2DBlock(torch.nn.Identity(), num_segments=8)
    no_act = ConvModule(
        16, 16, 3, padding=1, norm_cfg=dict(type='BN'), act_cfg=None
    )  # BasicBlock's conv2
    with pytest.raises(TypeError, match='activation'):
        TAda2DBlock(no_act, num_segments=8)
    with pytest.raises(ValueError, match='pool_kernel_size must be odd'):
        TAda2DBlock(_conv3x3(16, 16), 8, pool_kernel_size=2)
    with pytest.raises(ValueError, match='smaller than reduction=32'):
        TAda2DBlock(_conv3x3(16, 16), 8, route_reduction=32)
    with pytest.raises(ValueError, match='not a multiple of num_segments=4'):
        _block(t=4)(torch.randn(6, 16, 4, 4, dtype=torch.float64))


def _resnet50(blocks, t=2):
    backbone = MODELS.build(
        dict(
            type='ResNetWithBlocks',
            depth=50,
            num_segments=t,
            pretrained=None,
            pretrained2d=False,
            stem_pool=False,
            blocks=blocks,
        )
    )
    backbone.init_weights()
    return backbone.double()


@pytest.fixture(scope='module')
def tada_and_plain_resnet50():
    return _resnet50(TADA), _resnet50([])


def test_tada_resnet50_at_init_equals_the_plain_resnet(
    tada_and_plain_resnet50,
):
    tada, plain = tada_and_plain_resnet50
    assert sum(isinstance(m, TAda2DBlock) for m in tada.modules()) == 16
    # the plain weights, at the keys the ImageNet loader maps (.net)
    state = {
        k.replace('conv2.', 'conv2.net.') if k.startswith('layer') else k: v
        for k, v in plain.state_dict().items()
    }
    missing, unexpected = tada.load_state_dict(state, strict=False)
    assert not unexpected
    assert missing and all(
        'routing' in k or 'temporal_bn' in k for k in missing
    )
    x = torch.randn(4, 3, 32, 32, dtype=torch.float64)
    torch.testing.assert_close(tada(x), plain(x), rtol=0, atol=0)


def test_stem_without_pool_strides_the_first_bottleneck(
    tada_and_plain_resnet50,
):
    _, no_pool = tada_and_plain_resnet50
    assert isinstance(no_pool.maxpool, torch.nn.Identity)
    assert no_pool.layer1[0].conv2.conv.stride == (2, 2)
    assert no_pool.layer1[0].downsample.conv.stride == (2, 2)
    assert no_pool.layer1[1].conv2.conv.stride == (1, 1)
    x = torch.randn(2, 3, 40, 24, dtype=torch.float64)
    stem = no_pool.conv1(x)  # (20, 12): res2 runs its conv1 at this size
    assert no_pool.layer1[0].conv1(stem).shape[-2:] == (20, 12)
    # the same output sizes as with the max-pool (10x6 after res2)
    assert no_pool.layer1[0](stem).shape[-2:] == (10, 6)
    assert no_pool(x).shape == (2, 2048, 2, 1)
    with pytest.raises(ValueError, match='use depth >= 50'):
        MODELS.build(
            dict(
                type='ResNetWithBlocks',
                depth=18,
                num_segments=2,
                pretrained=None,
                pretrained2d=False,
                stem_pool=False,
            )
        )


def test_recognizer_train_and_test_step():
    init_default_scope('mmaction')
    t, classes = 4, 5
    model = MODELS.build(
        dict(
            type='Recognizer2D',
            # R18 keeps the test fast; its BasicBlock conv1 is the 3x3
            # conv + BN + ReLU that TAda wraps (conv2 has no ReLU)
            backbone=dict(
                type='ResNetWithBlocks',
                depth=18,
                num_segments=t,
                pretrained=None,
                pretrained2d=False,
                blocks=[
                    dict(
                        cfg=dict(type='TAda2DBlock'),
                        position='wrap_conv1',
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
    assert torch.isfinite(losses['loss_cls'])
    preds = model.test_step(data)
    assert len(preds) == 2 and preds[0].pred_score.shape == (classes,)
