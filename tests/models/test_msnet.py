import pytest
import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope

from selfy_mmaction.models.blocks.msnet import MotionSqueezeBlock


def _block(c=16, t=4, **kwargs):
    kwargs.setdefault('reduced_channels', 32)
    block = MotionSqueezeBlock(c, t, **kwargs)
    block.init_weights()
    return block.double()


def _reference_flow(block, x):
    """Brute-force kernel soft-argmax over explicit (dy, dx) loops."""
    t, r = block.num_segments, block.radius
    f = block.reduce(x)
    f = f / torch.sqrt((f * f).sum(1, keepdim=True) + block.eps)
    nt, c, h, w = f.shape
    f = f.view(nt // t, t, c, h, w)
    q, k = f[:, :-1], F.pad(f[:, 1:], (r, r, r, r))
    disps = [(dy, dx) for dy in range(-r, r + 1) for dx in range(-r, r + 1)]
    corr = torch.stack(
        [
            (q * k[..., r + dy : r + dy + h, r + dx : r + dx + w]).sum(2)
            for dy, dx in disps
        ],
        2,
    ).relu()
    conf, peak = corr.max(2)
    dy = torch.tensor([d[0] for d in disps], dtype=x.dtype)
    dx = torch.tensor([d[1] for d in disps], dtype=x.dtype)
    gauss = torch.exp(
        -(
            (dy.view(1, 1, -1, 1, 1) - dy[peak].unsqueeze(2)) ** 2
            + (dx.view(1, 1, -1, 1, 1) - dx[peak].unsqueeze(2)) ** 2
        )
        / (2 * block.sigma**2)
    )
    prob = torch.softmax(block.temperature * gauss * corr, 2)
    u = (prob * dx.view(1, 1, -1, 1, 1)).sum(2) / r
    v = (prob * dy.view(1, 1, -1, 1, 1)).sum(2) / r
    flow = torch.stack([u, v, conf], 2)
    return torch.cat([flow, flow[:, -1:]], 1).reshape(nt, 3, h, w)


@pytest.mark.parametrize(
    't,hw,radius,sigma,temperature',
    [(2, (5, 7), 2, 5.0, 100.0), (3, (6, 4), 3, 1.5, 10.0)],
)
def test_flow_matches_brute_force(t, hw, radius, sigma, temperature):
    block = _block(t=t, radius=radius, sigma=sigma, temperature=temperature)
    x = torch.randn(2 * t, 16, *hw, dtype=torch.float64)
    torch.testing.assert_close(
        block.flow(x), _reference_flow(block, x), rtol=1e-9, atol=1e-9
    )


def test_flow_recovers_a_translation():
    """Frame t+1 = frame t moved by (dy, dx) = (1, -2): inside the border,
    u = -2/r, v = 1/r and the confidence is the cosine 1."""
    t, r = 3, 3
    block = _block(c=32, t=t, radius=r, reduced_channels=64).eval()
    frame = torch.randn(1, 32, 12, 12, dtype=torch.float64)
    x = torch.cat([torch.roll(frame, (i, -2 * i), (2, 3)) for i in range(t)])
    flow = block.flow(x)
    inner = flow[:, :, r:-r, r:-r]
    torch.testing.assert_close(
        inner[:, 0], torch.full_like(inner[:, 0], -2 / r)
    )
    torch.testing.assert_close(
        inner[:, 1], torch.full_like(inner[:, 1], 1 / r)
    )
    torch.testing.assert_close(
        inner[:, 2], torch.ones_like(inner[:, 2]), atol=1e-5, rtol=0
    )


@pytest.mark.parametrize('t,hw', [(2, (5, 5)), (3, (7, 4)), (8, (3, 9))])
def test_shapes_and_last_pair_repeated(t, hw):
    block = _block(t=t, radius=2)
    x = torch.randn(2 * t, 16, *hw, dtype=torch.float64)
    assert block(x).shape == x.shape
    flow = block.flow(x).view(2, t, 3, *hw)
    torch.testing.assert_close(flow[:, -1], flow[:, -2], rtol=0, atol=0)
    assert not torch.equal(block(x), x)  # not the identity at init


def test_gradients_reach_every_parameter():
    block = _block(t=3, radius=2)
    x = torch.randn(6, 16, 6, 5, dtype=torch.float64, requires_grad=True)
    block(x).square().sum().backward()
    for name, p in block.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert x.grad.abs().sum() > 0


def test_clear_errors():
    with pytest.raises(ValueError, match='num_segments must be >= 2, got 1'):
        MotionSqueezeBlock(16, 1)
    with pytest.raises(ValueError, match='one entry per separable block'):
        MotionSqueezeBlock(16, 4, refine_kernel_sizes=(7, 3))
    with pytest.raises(ValueError, match='radius'):
        MotionSqueezeBlock(16, 4, radius=0)
    with pytest.raises(ValueError, match='not a multiple of num_segments=4'):
        _block(t=4)(torch.randn(6, 16, 4, 4, dtype=torch.float64))


def test_recognizer_train_and_test_step():
    init_default_scope('mmaction')
    t, classes = 4, 5
    model = MODELS.build(
        dict(
            type='Recognizer2D',
            backbone=dict(
                type='ResNetTSMWithBlocks',
                depth=18,
                num_segments=t,
                pretrained=None,
                pretrained2d=False,
                blocks=[
                    dict(
                        cfg=dict(type='MotionSqueezeBlock'),
                        position='after_stage',
                        layers=('layer2',),
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
    blocks = list(model.backbone.stage_blocks['layer2'])
    assert len(blocks) == 1 and isinstance(blocks[0], MotionSqueezeBlock)
    assert blocks[0].refine[-1][1].conv.out_channels == 128
    data = dict(
        inputs=[
            torch.randint(0, 256, (t, 3, 48, 48), dtype=torch.uint8)
            for _ in range(2)
        ],
        data_samples=[ActionDataSample().set_gt_label(i) for i in range(2)],
    )
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    losses = model.train_step(data, optim)
    assert torch.isfinite(losses['loss_cls'])
    preds = model.test_step(data)
    assert len(preds) == 2 and preds[0].pred_score.shape == (classes,)
