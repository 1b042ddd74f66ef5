import pytest
import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.registry import init_default_scope
from zoo_helpers import (
    build_optim_wrapper,
    check_config_steps,
    count_params,
    grads_reach_all,
    single_thread,  # noqa: F401  (autouse fixture)
)

from selfy_mmaction.models.blocks.eca import (
    ECA,
    ECA_RELEASED_KERNELS,
    eca_blocks,
    eca_kernel_size,
)


def _eca_reference(x, weight):
    """Written from the definition: per-frame channel means, a zero-padded
    1-D correlation over channels, sigmoid, rescale."""
    b, c = x.shape[:2]
    k = weight.numel()
    means = x.mean(dim=(2, 3))
    padded = F.pad(means, (k // 2, k // 2))
    logits = torch.stack(
        [(padded[:, i : i + k] * weight).sum(1) for i in range(c)], dim=1
    )
    return x * logits.sigmoid().view(b, c, 1, 1)


@pytest.mark.parametrize(
    'c,k,hw', [(16, 3, (5, 7)), (64, 5, (1, 1)), (7, 7, (4, 3))]
)
def test_eca_matches_definition(c, k, hw):
    block = ECA(c, kernel_size=k).double()
    block.init_weights()
    x = torch.randn(6, c, *hw, dtype=torch.float64)
    torch.testing.assert_close(
        block(x),
        _eca_reference(x, block.conv.weight.view(-1)),
        rtol=0,
        atol=1e-12,
    )


def test_adaptive_kernel_rule():
    # t = int((log2 C + 1) / 2), next odd: ResNet-50 stage widths -> 5,5,5,7
    assert [eca_kernel_size(c) for c in (256, 512, 1024, 2048)] == [5, 5, 5, 7]
    assert [eca_kernel_size(c) for c in (64, 128)] == [3, 5]
    assert ECA(2048).kernel_size == 7 and ECA(2048, 3).kernel_size == 3


def test_init_is_pytorch_default_range_and_explicit():
    block = ECA(256, kernel_size=5)
    with torch.no_grad():
        block.conv.weight.fill_(10.0)
    block.init_weights()
    w = block.conv.weight
    assert w.abs().max() <= 1 / 5**0.5 and w.abs().max() > 0


def test_r50_released_kernels_add_exactly_80_parameters():
    plain = MODELS.build(
        dict(
            type='ResNetTSMWithBlocks',
            depth=50,
            pretrained=None,
            pretrained2d=False,
        )
    )
    eca = MODELS.build(
        dict(
            type='ResNetTSMWithBlocks',
            depth=50,
            pretrained=None,
            pretrained2d=False,
            blocks=eca_blocks(ECA_RELEASED_KERNELS),
        )
    )
    assert count_params(eca) - count_params(plain) == 80
    blocks = [m for m in eca.modules() if isinstance(m, ECA)]
    assert len(blocks) == 16
    assert [b.in_channels for b in blocks[:3]] == [256] * 3
    assert blocks[-1].kernel_size == 7 and blocks[0].kernel_size == 3


@pytest.mark.parametrize(
    'depth,position', [(18, 'after_conv2'), (34, 'after_conv2')]
)
def test_basic_block_resnets(depth, position):
    net = MODELS.build(
        dict(
            type='ResNetWithBlocks',
            depth=depth,
            num_segments=3,
            pretrained=None,
            pretrained2d=False,
            blocks=eca_blocks((None,) * 4, position),
        )
    )
    net.init_weights()
    blocks = [m for m in net.modules() if isinstance(m, ECA)]
    assert len(blocks) == {18: 8, 34: 16}[depth]
    assert [b.kernel_size for b in blocks[-2:]] == [5, 5]  # C=512
    out = net(torch.randn(6, 3, 35, 29))
    assert out.shape == (6, 512, 2, 1)


def test_bottleneck_insertion_is_before_the_residual_add():
    """ECA(x)=x*w, w in (0,1): with the gate forced to 1/2, every block's
    residual branch is halved (checked on one block against manual math)."""
    net = MODELS.build(
        dict(
            type='ResNetWithBlocks',
            depth=50,
            num_segments=2,
            pretrained=None,
            pretrained2d=False,
            blocks=eca_blocks(),
        )
    )
    net.init_weights()
    net.double().eval()
    block = net.layer2[1]
    eca = block.conv3.insert
    with torch.no_grad():
        eca.conv.weight.zero_()  # sigmoid(0) = 1/2
    x = torch.randn(4, 512, 6, 5, dtype=torch.float64)
    branch = block.conv3.net(block.conv2(block.conv1(x)))
    torch.testing.assert_close(
        block(x), F.relu(branch / 2 + x), rtol=0, atol=1e-12
    )


def test_gradients_and_errors():
    block = ECA(32, 3).double()
    block.init_weights()
    grads_reach_all(block, torch.randn(4, 32, 3, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match='positive odd'):
        ECA(32, kernel_size=4)
    with pytest.raises(ValueError, match=r'expects \(B, 32, H, W\)'):
        block(torch.randn(4, 16, 3, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match='one kernel size per stage'):
        eca_blocks((3, 5, 7))


def test_tsm_optim_constructor_covers_eca():
    init_default_scope('mmaction')
    model = MODELS.build(
        dict(
            type='Recognizer2D',
            backbone=dict(
                type='ResNetTSMWithBlocks',
                depth=18,
                num_segments=2,
                pretrained=None,
                pretrained2d=False,
                blocks=eca_blocks(position='after_conv2'),
            ),
            cls_head=dict(
                type='TSMHead', num_classes=3, in_channels=512, num_segments=2
            ),
        )
    )
    build_optim_wrapper(model, 'TSMOptimWrapperConstructor')


@pytest.mark.parametrize(
    'name',
    [
        'eca/eca_r18_1x1x8-4e_motion-rgb.py',
        'eca/eca_imagenet-pretrained-r50_8xb8-1x1x8-50e_sthv1-rgb.py',
    ],
)
def test_configs_build_and_step(name):
    model = check_config_steps(name)
    assert len([m for m in model.modules() if isinstance(m, ECA)]) in (8, 16)
