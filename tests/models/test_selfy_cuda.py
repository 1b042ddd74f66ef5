"""SELFY on CUDA, without a compiled extension: the STSS op and the block
against the float64 CPU reference, float16/bfloat16 autocast, and a
SELFYNet training step. Skipped where no CUDA device is available (CI);
``tools/analysis/gpu_check.sh`` runs them with the GPU benchmark."""

import importlib
import os.path as osp

import pytest
import torch
from _official_selfy_reference import randomize_

from selfy_mmaction.models.blocks.selfy import SELFYBlock
from selfy_mmaction.ops.stss import l2_normalize, stss, stss_reference

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(), reason='needs a CUDA device'
)
DEVICE = 'cuda'
stss_module = importlib.import_module('selfy_mmaction.ops.stss')
MAIN_CONFIG = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
    'configs',
    'selfy_tsm_r18_motion.py',
)


@pytest.mark.parametrize('dense', [True, False])
@pytest.mark.parametrize(
    'shape, window',
    [((2, 4, 16, 7, 9), (3, 5, 5)), ((1, 8, 32, 14, 14), (5, 9, 9))],
)
def test_stss_matches_the_float64_reference(dense, shape, window, monkeypatch):
    monkeypatch.setattr(stss_module, '_use_dense', lambda g, self_corr: dense)
    x = l2_normalize(torch.randn(shape, dtype=torch.float64))
    leaf = x.to(DEVICE, torch.float32).requires_grad_()
    out = stss(leaf, window)
    assert out.device.type == DEVICE and out.dtype == torch.float32
    expected_leaf = x.clone().requires_grad_()
    expected = stss_reference(expected_leaf, window)
    torch.testing.assert_close(out.double().cpu(), expected, rtol=0, atol=1e-5)
    weight = torch.randn(expected.shape, dtype=torch.float64)
    (out * weight.to(out)).sum().backward()
    (expected * weight).sum().backward()
    torch.testing.assert_close(
        leaf.grad.double().cpu(), expected_leaf.grad, rtol=1e-4, atol=1e-4
    )


def _blocks(**kwargs):
    """The fast block on the device (float32) and the reference block on the
    CPU (float64), same random weights and BN statistics."""
    kwargs = dict(hidden_channels=8, window=(3, 7, 7), **kwargs)
    fast = randomize_(
        SELFYBlock(16, 2, impl='fast', **kwargs),
        torch.Generator().manual_seed(0),
    )
    reference = SELFYBlock(16, 2, impl='reference', **kwargs).double()
    reference.load_state_dict(fast.state_dict())
    return fast.to(DEVICE), reference


@pytest.mark.parametrize('train', [True, False])
@pytest.mark.parametrize('extraction', ['conv', 'mlp', 'softargmax'])
def test_block_matches_the_float64_reference(train, extraction):
    fast, reference = _blocks(extraction=extraction)
    fast.train(train)
    reference.train(train)
    x = torch.randn(4, 16, 11, 10, dtype=torch.float64)
    leaf = x.to(DEVICE, torch.float32).requires_grad_()
    expected_leaf = x.clone().requires_grad_()
    out, expected = fast(leaf), reference(expected_leaf)
    scale = float((expected - x.relu()).abs().max())
    assert scale > 0.1  # the block changes its input
    torch.testing.assert_close(
        out.double().cpu(), expected, rtol=0, atol=1e-4 * scale
    )
    weight = torch.randn(expected.shape, dtype=torch.float64)
    (out * weight.to(out)).sum().backward()
    (expected * weight).sum().backward()
    torch.testing.assert_close(
        leaf.grad.double().cpu(), expected_leaf.grad, rtol=1e-3, atol=1e-4
    )
    for (name, p), q in zip(
        fast.named_parameters(), reference.parameters(), strict=True
    ):
        torch.testing.assert_close(
            p.grad.double().cpu(),
            q.grad,
            rtol=1e-3,
            atol=1e-4,
            msg=lambda m, name=name: f'{name}: {m}',
        )
    for (name, b), c in zip(
        fast.named_buffers(), reference.buffers(), strict=True
    ):
        torch.testing.assert_close(
            b.double().cpu() if b.is_floating_point() else b.cpu(),
            c,
            rtol=1e-5,
            atol=1e-5,
            msg=lambda m, name=name: f'{name}: {m}',
        )


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
@pytest.mark.parametrize('train', [True, False])
def test_autocast(dtype, train):
    """Convolutions in ``dtype``, L2 normalisation and similarity in
    float32, output finite and close to the float32 block, gradients reach
    every parameter."""
    fast, _ = _blocks()
    fast.train(train)
    x = torch.randn(4, 16, 11, 10, device=DEVICE)
    seen = {}
    fast.stss_transformation.register_forward_hook(
        lambda module, inputs, output: seen.update(similarity=output)
    )
    state = {k: v.clone() for k, v in fast.state_dict().items()}
    leaf = x.clone().requires_grad_()
    with torch.autocast(DEVICE, dtype=dtype):
        out = fast(leaf)
    assert seen['similarity'].dtype == torch.float32
    assert out.shape == x.shape and torch.isfinite(out).all()
    out.float().sum().backward()
    assert torch.isfinite(leaf.grad).all()
    for name, p in fast.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    fast.load_state_dict(state)
    with torch.no_grad():
        expected = fast(x)
        fast.load_state_dict(state)
        with torch.autocast(DEVICE, dtype=dtype):
            low = fast(x)
    error = (low.float() - expected).abs().mean()
    assert error < 0.03 * (expected - x.relu()).abs().mean()


def test_selfynet_train_step_with_amp():
    """SELFY-TSM-R18 (the main job's model) trains a step on the device under
    MMEngine's AmpOptimWrapper: finite loss and parameters, and the block's
    zero-initialised last BN (where its gradient enters) has moved."""
    from mmaction.registry import MODELS
    from mmaction.structures import ActionDataSample
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope

    init_default_scope('mmaction')
    cfg = Config.fromfile(MAIN_CONFIG)
    model = MODELS.build(cfg.model).to(DEVICE)
    model.init_weights()
    optim_wrapper = build_optim_wrapper(
        model,
        dict(
            type='AmpOptimWrapper',
            dtype='float16',
            optimizer=dict(type='SGD', lr=0.01, momentum=0.9),
        ),
    )
    inputs = [
        torch.randint(0, 256, (8, 3, 48, 48), dtype=torch.uint8)
        for _ in range(2)
    ]
    samples = [ActionDataSample().set_gt_label(k) for k in range(2)]
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    model.train()
    losses = model.train_step(
        dict(inputs=inputs, data_samples=samples), optim_wrapper
    )
    assert torch.isfinite(losses['loss_cls'])
    params = dict(model.named_parameters())
    assert all(torch.isfinite(p).all() for p in params.values())
    (last_bn,) = [n for n in params if n.endswith('upsample.bn.weight')]
    assert not torch.equal(params[last_bn], before[last_bn])
