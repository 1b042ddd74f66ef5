"""selfy_mmaction.benchmark.pretext: the rescaled arm computes the same
function as the pretext weights at the init's weight norms; the arms'
options; the report."""

import math

import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope

from selfy_mmaction.benchmark import pretext


@pytest.fixture(scope='module')
def tiny_r3d():
    """The recognition config's tiny R3D-18 with TemporalGroupNorm, float64."""
    init_default_scope('mmaction')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(pretext.SCRATCH).model).double()
    model.init_weights()
    # the rescaling is exact but for the norms' eps (a scale a turns eps
    # into eps / a^2): make it negligible to test the rest exactly
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.eps = 1e-30
    return model


def _trained_like(model, seed=1):
    """A state dict with other conv scales and running statistics, as after
    training: every conv x a factor in [0.5, 4], random stats."""
    gen = torch.Generator().manual_seed(seed)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    for weight, norm in pretext._conv_norm_layers(model):
        state[weight] *= 0.5 + 3.5 * torch.rand((), generator=gen).item()
        state[weight] += 0.01 * torch.randn(
            state[weight].shape, generator=gen, dtype=state[weight].dtype
        )
        mean = state[f'{norm}.running_mean']
        state[f'{norm}.running_mean'] = torch.randn(
            mean.shape, generator=gen, dtype=mean.dtype
        )
        state[f'{norm}.running_var'] = 0.5 + torch.rand(
            mean.shape, generator=gen, dtype=mean.dtype
        )
    return state


def _features(model, state, x, train):
    model.load_state_dict(state)
    model.train(train)
    with torch.no_grad():
        return model.backbone(x)


@pytest.mark.parametrize('train', [True, False])
def test_rescaled_weights_compute_the_same_function(tiny_r3d, train):
    state = _trained_like(tiny_r3d)
    init = {k: v.clone() for k, v in tiny_r3d.state_dict().items()}
    rescaled, scales = pretext.rescale_to_init(state, tiny_r3d)
    x = torch.randn(2, 3, 8, 32, 32, dtype=torch.float64)
    expected = _features(tiny_r3d, state, x, train)
    got = _features(tiny_r3d, rescaled, x, train)
    # exact in train mode; in eval mode up to the norms' eps (1e-5)
    torch.testing.assert_close(
        got,
        expected,
        rtol=1e-9 if train else 1e-4,
        atol=1e-9 if train else 1e-4,
    )
    # every normalised conv (stem, two per block, the downsamples) moved
    assert len(scales) == 1 + 2 * 8 + 3
    for weight in scales:
        assert math.isclose(
            rescaled[weight].norm().item(),
            init[weight].norm().item(),
            rel_tol=1e-9,
        )
        assert not math.isclose(scales[weight], 1.0, rel_tol=1e-3)
    tiny_r3d.load_state_dict(init)


def test_rescale_names_a_missing_convolution(tiny_r3d):
    state = dict(tiny_r3d.state_dict())
    del state['backbone.conv1.conv.weight']
    with pytest.raises(KeyError, match='backbone.conv1.conv.weight'):
        pretext.rescale_to_init(state, tiny_r3d)


def test_arm_options():
    assert pretext.arm_options('scratch', 'a.pth', 'b.pth') == []
    assert pretext.arm_options('rescaled', 'a.pth', 'b.pth') == [
        'load_from=b.pth'
    ]
    assert pretext.arm_options('probe', 'a.pth', 'b.pth') == [
        'load_from=a.pth',
        'model.backbone.frozen_stages=4',
    ]
    with pytest.raises(ValueError, match='unknown arm'):
        pretext.arm_options('linear', 'a.pth', 'b.pth')


def test_report_tables_every_arm():
    summary = dict(
        pretext_top1={0: 0.4},
        arms=['scratch', 'rescaled'],
        rescale={0: dict(min=0.2, median=0.5, max=0.9, layers=20)},
        protocols={
            '320:15': dict(
                rows=[
                    dict(seed=0, scratch=0.6, rescaled=0.7),
                    dict(seed=1, scratch=0.5, rescaled=0.65),
                ],
                scratch=(0.55, 0.07),
                rescaled=(0.675, 0.035),
            )
        },
    )
    text = pretext.report(summary)
    assert '| seed | random init | pretext weights, convs rescaled' in text
    assert '| 1 | 0.5000 | 0.6500 |' in text
    assert '| mean (sd) | 0.5500 (0.0700) | 0.6750 (0.0350) |' in text
    assert 'median 0.500' in text


def test_tool_lists_the_arms():
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, 'tools/pretext_vs_scratch.py', '--help'],
        capture_output=True,
        text=True,
        cwd=pretext.REPO,
    )
    assert proc.returncode == 0, proc.stderr
    assert '{scratch,finetune,rescaled,probe}' in proc.stdout


@pytest.mark.parametrize('shared', [False, True])
def test_each_seed_starts_from_its_own_pretext_run(
    tmp_path, monkeypatch, shared
):
    import argparse

    calls = []

    def fake_train(config, work_dir, seed, epochs, *options):
        calls.append((config, work_dir, seed, options))
        return {'acc/top1': 0.5}

    monkeypatch.setattr(pretext, 'train', fake_train)
    monkeypatch.setattr(pretext, 'write_rescaled', lambda *a, **k: {'w': 0.9})
    args = argparse.Namespace(
        seeds=[0, 1],
        work_dir=str(tmp_path),
        shared_pretext=shared,
        pretext_epochs=12,
        protocols=['40:100'],
        arms=['scratch', 'finetune', 'rescaled'],
    )
    summary = pretext.run_comparison(args)
    pretrained = [
        seed for config, _, seed, _ in calls if config == pretext.PRETEXT
    ]
    assert pretrained == ([0] if shared else [0, 1])
    finetune_seed1 = [
        (work, options)
        for config, work, seed, options in calls
        if seed == 1 and 'finetune' in work
    ]
    ((work, options),) = finetune_seed1
    source = 0 if shared else 1
    assert work.endswith(f'finetune_seed1_pretext{source}')
    assert f'load_from={tmp_path}/pretext_seed{source}/epoch_12.pth' in options
    assert summary['protocols']['40:100']['rescaled'][0] == 0.5
