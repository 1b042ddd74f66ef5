"""Global random number generator states: capture, restore, seed locally.

The states are kept as tensors, ints and tuples only, so a checkpoint that
holds them still loads with ``torch.load(weights_only=True)`` and needs no
extra allowlisted global.
"""

import contextlib
import random
from typing import Sequence

import numpy as np
import torch


def rng_states() -> dict:
    """States of Python's ``random``, NumPy's global and torch's generators.

    Returns:
        dict: ``python`` (tuple), ``numpy`` (dict with an int64 ``key``
        tensor), ``torch`` (uint8 tensor) and ``cuda`` (list of uint8
        tensors, empty without CUDA).
    """
    kind, key, pos, has_gauss, gauss = np.random.get_state()
    return dict(
        python=random.getstate(),
        numpy=dict(
            kind=kind,
            key=torch.from_numpy(key.astype(np.int64)),
            pos=int(pos),
            has_gauss=int(has_gauss),
            gauss=float(gauss),
        ),
        torch=torch.get_rng_state(),
        cuda=torch.cuda.get_rng_state_all()
        if torch.cuda.is_available()
        else [],
    )


def set_rng_states(states: dict):
    """Restore what :func:`rng_states` returned."""
    version, internal, gauss = states['python']
    random.setstate((version, tuple(internal), gauss))
    np_state = states['numpy']
    np.random.set_state(
        (
            np_state['kind'],
            np_state['key'].numpy().astype(np.uint32),
            np_state['pos'],
            np_state['has_gauss'],
            np_state['gauss'],
        )
    )
    torch.set_rng_state(states['torch'])
    if states['cuda'] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states['cuda'])


@contextlib.contextmanager
def seeded_rng(entropy: Sequence[int]):
    """Seed ``random``, NumPy's global and torch's CPU generator from
    ``entropy`` (non-negative ints) for the block, then put back the states
    they had before.

    Used around a data pipeline so that a sample's augmentation depends only
    on ``entropy`` (seed, epoch, index), not on which process or worker ran
    it nor on what that worker ran before.
    """
    py_state = random.getstate()
    np_state = np.random.get_state()
    torch_state = torch.default_generator.get_state()
    words = np.random.SeedSequence(list(entropy)).generate_state(4)
    random.seed(int(words[0]))
    np.random.seed(words[1:3])
    torch.default_generator.manual_seed(int(words[3]))
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
        torch.default_generator.set_state(torch_state)
