"""Random states: capture/restore, local seeding, weights-only loading."""

import random
import subprocess
import sys

import numpy as np
import torch

from selfy_mmaction.engine import rng_states, seeded_rng, set_rng_states


def _draw():
    return (
        random.random(),
        float(np.random.rand()),
        np.random.normal(),
        float(torch.rand(1)),
    )


def test_states_round_trip():
    np.random.normal()  # leaves a cached gauss in NumPy's state
    states = rng_states()
    first = _draw()
    assert _draw() != first
    set_rng_states(states)
    assert _draw() == first


def test_seeded_rng_is_a_function_of_its_entropy_and_restores_states():
    with seeded_rng([0, 1, 5]):
        a = _draw()
    outer = rng_states()
    with seeded_rng([0, 1, 5]):
        b = _draw()
    with seeded_rng([0, 2, 5]):
        c = _draw()
    after = _draw()
    set_rng_states(outer)
    assert a == b and a != c
    assert _draw() == after  # the block did not move the outer streams


def test_states_need_no_allowlisted_global(tmp_path):
    """Stock torch (no selfy_mmaction import) loads them weights-only."""
    path = str(tmp_path / 'rng.pth')
    torch.save(dict(rng_states=rng_states()), path)
    code = (
        f'import torch\nstates = torch.load({path!r}, '
        f'weights_only=True)["rng_states"]\n'
        f'print(sorted(states))'
    )
    proc = subprocess.run(
        [sys.executable, '-c', code],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "['cuda', 'numpy', 'python', 'torch']" in proc.stdout
