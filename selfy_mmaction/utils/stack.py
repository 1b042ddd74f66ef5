"""Repairs for the OpenMMLab stack as it installs today (see STACK.md).

Each repair is applied once, when ``selfy_mmaction`` is imported, and only
where the installed stack is really broken, so a fixed release is left alone.
"""
import importlib.util
import os.path as osp
import sys
import types

import torch


class _MissingDRN:
    """Placeholder for ``mmaction.models.localizers.DRN``.

    The mmaction2 1.2.0 wheel does not ship ``localizers/drn`` (upstream
    mmaction2 issue #2714), so ``import mmaction.models`` fails. Recognition
    does not need DRN; using it says why it is absent.
    """

    def __init__(self, *args, **kwargs):
        raise ImportError(
            'DRN is missing from the installed mmaction2 wheel '
            '(mmaction/models/localizers/drn, mmaction2 issue #2714); '
            'install mmaction2 from source to use DRN.')


def repair_missing_drn(mmaction_dir=None):
    """Register stub modules for ``mmaction.models.localizers.drn``.

    Args:
        mmaction_dir (str, optional): Directory of the ``mmaction`` package.
            Defaults to the installed one.

    Returns:
        bool: True if the stub was installed, False if DRN exists (or the
        stub is already in place).
    """
    if mmaction_dir is None:
        spec = importlib.util.find_spec('mmaction')
        mmaction_dir = osp.dirname(spec.origin)
    drn_dir = osp.join(mmaction_dir, 'models', 'localizers', 'drn')
    name = 'mmaction.models.localizers.drn'
    if osp.isdir(drn_dir) or name in sys.modules:
        return False
    package = types.ModuleType(name)
    package.__path__ = []
    module = types.ModuleType(name + '.drn')
    module.DRN = _MissingDRN
    package.drn = module
    sys.modules[name] = package
    sys.modules[name + '.drn'] = module
    return True


def checkpoint_safe_globals():
    """The exact non-tensor globals that MMEngine/MMAction2 checkpoints hold.

    Found by saving real checkpoints (train, resume, ``publish_model``) and
    listing them with ``torch.serialization.get_unsafe_globals_in_checkpoint``.
    """
    import numpy as np
    from mmengine.logging import HistoryBuffer
    from numpy.dtypes import (Float32DType, Float64DType, Int64DType)

    multiarray = np._core.multiarray
    return [
        HistoryBuffer,
        multiarray._reconstruct,
        multiarray.scalar,
        np.ndarray,
        np.dtype,
        Float64DType,
        Float32DType,
        Int64DType,
    ]


def allow_checkpoint_globals():
    """Let ``torch.load(weights_only=True)`` read MMEngine checkpoints.

    torch >= 2.6 loads weights-only by default and MMEngine 0.10.7 does not
    say otherwise (mmengine issue #1655), so ``tools/test.py`` and
    ``--resume`` fail on ``HistoryBuffer``. Allow exactly the globals such
    checkpoints contain; anything else (a pickled callable) is still refused.
    """
    torch.serialization.add_safe_globals(checkpoint_safe_globals())


def apply_stack_repairs():
    """Apply every repair; safe to call more than once."""
    repair_missing_drn()
    allow_checkpoint_globals()
