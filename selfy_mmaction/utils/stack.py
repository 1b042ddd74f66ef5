"""Repairs for the OpenMMLab stack as it installs today (see STACK.md).

Each repair is applied once, when ``selfy_mmaction`` is imported, and only
where the installed stack is really broken, so a fixed release is left alone.
"""
import functools
import importlib.util
import os.path as osp
import pickle
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


_BUILTIN_STATISTICS = frozenset(('min', 'max', 'current', 'mean'))


def _history_buffer_getattr(obj, name):
    """Stand-in for ``getattr`` while unpickling a checkpoint.

    MMEngine's message hub pickles ``HistoryBuffer._statistics_methods`` as
    ``getattr(HistoryBuffer, 'min')`` etc. A general ``getattr`` would let a
    checkpoint reach any attribute (and from there run code), so only these
    lookups are allowed.
    """
    from mmengine.logging import HistoryBuffer

    allowed = _BUILTIN_STATISTICS | set(HistoryBuffer._statistics_methods)
    if obj is HistoryBuffer and name in allowed:
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'checkpoint asks for getattr({obj!r}, {name!r}); only '
        f'HistoryBuffer statistics methods are allowed when loading '
        f'weights-only')


def checkpoint_safe_globals():
    """The exact non-tensor globals that MMEngine/MMAction2 checkpoints hold.

    Found by disassembling checkpoints written by MMEngine's Runner (train,
    resume, best) and by MMAction2's model zoo tools: the message hub's
    ``HistoryBuffer`` with its numpy arrays and statistics methods, numpy
    scalars (eta) and dtypes. Names are given for both numpy 1 (``numpy.core``)
    and numpy 2 (``numpy._core``) pickles.
    """
    import numpy as np
    from mmengine.logging import HistoryBuffer

    multiarray = np._core.multiarray if hasattr(np, '_core') else \
        np.core.multiarray
    safe = [HistoryBuffer, np.ndarray, np.dtype]
    for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        safe.append((multiarray._reconstruct, f'{module}._reconstruct'))
        safe.append((multiarray.scalar, f'{module}.scalar'))
    # numpy >= 1.25 pickles dtypes through their classes
    for dtype_name in ('Float64DType', 'Float32DType', 'Int64DType',
                       'Int32DType', 'BoolDType'):
        dtype_cls = getattr(getattr(np, 'dtypes', None), dtype_name, None)
        if dtype_cls is not None:
            safe.append(dtype_cls)
    for name in ('builtins.getattr', '__builtin__.getattr'):
        safe.append((_history_buffer_getattr, name))
    return safe


def allow_checkpoint_globals():
    """Let ``torch.load(weights_only=True)`` read MMEngine checkpoints.

    torch >= 2.6 loads weights-only by default and MMEngine 0.10.7 does not
    say otherwise (mmengine issue #1655), so ``tools/test.py`` and
    ``--resume`` fail on ``HistoryBuffer``. Allow exactly the globals such
    checkpoints contain; anything else (a pickled callable) is still refused.
    """
    torch.serialization.add_safe_globals(checkpoint_safe_globals())


def repair_cpu_distributed():
    """Let MMEngine's launchers run distributed training without CUDA.

    MMEngine 0.10.7 always calls ``torch.cuda.set_device`` and defaults to
    NCCL, and the Runner gives DDP ``device_ids=[LOCAL_RANK]``; on a CPU-only
    machine all three fail. Where CUDA is absent, the pytorch (torchrun),
    slurm and mpi launchers use gloo and skip ``set_device``, and DDP wraps
    CPU modules without device ids. Machines with CUDA keep MMEngine's
    behaviour unchanged.

    Returns:
        bool: True if the repair was installed.
    """
    import mmengine.dist.utils as dist_utils
    from mmengine.model.wrappers import MMDistributedDataParallel

    if torch.cuda.is_available() or getattr(dist_utils, '_selfy_cpu', False):
        return False

    def on_cpu(init_dist):

        @functools.wraps(init_dist)
        def init(backend, *args, **kwargs):
            set_device = torch.cuda.set_device
            torch.cuda.set_device = lambda device: None  # there is no CUDA
            try:
                return init_dist('gloo' if backend == 'nccl' else backend,
                                 *args, **kwargs)
            finally:
                torch.cuda.set_device = set_device

        return init

    for launcher in ('pytorch', 'slurm', 'mpi'):
        name = f'_init_dist_{launcher}'
        setattr(dist_utils, name, on_cpu(getattr(dist_utils, name)))

    original_ddp_init = MMDistributedDataParallel.__init__

    def ddp_init(self, module, detect_anomalous_params=False, **kwargs):
        kwargs.pop('device_ids', None)  # CPU modules take no device ids
        original_ddp_init(self, module, detect_anomalous_params, **kwargs)

    MMDistributedDataParallel.__init__ = ddp_init
    dist_utils._selfy_cpu = True
    return True


def repair_atomic_checkpoints():
    """Write checkpoints and ``last_checkpoint`` atomically.

    MMEngine 0.10.7 writes a checkpoint straight into its final file and
    ``last_checkpoint`` with a plain ``open``, and deletes the outdated
    checkpoint before saving the new one: a crash or SIGKILL during a save
    leaves a truncated file that ``--resume`` then picks up, or (with
    ``max_keep_ckpts=1``) no checkpoint at all. Route ``LocalBackend.put``/
    ``put_text`` and the hook's ``last_checkpoint`` write through
    :func:`selfy_mmaction.utils.checkpoint.atomic_write` (temp file, fsync,
    rename) and delete outdated checkpoints after the save.

    Returns:
        bool: True if the repair was installed.
    """
    from mmengine.fileio.backends import LocalBackend
    from mmengine.hooks import CheckpointHook, checkpoint_hook

    from .checkpoint import (atomic_open, atomic_put, atomic_put_text,
                             remove_after_save)

    if LocalBackend.put is atomic_put:
        return False
    LocalBackend.put = atomic_put
    LocalBackend.put_text = atomic_put_text
    checkpoint_hook.open = atomic_open  # its only open(): last_checkpoint
    for name in ('_save_checkpoint_with_step', '_save_best_checkpoint'):
        setattr(CheckpointHook, name,
                remove_after_save(getattr(CheckpointHook, name)))
    return True


def repair_tsm_head_segments():
    """Make ``TSMHead`` refuse clips whose frame count does not fit.

    ``TSMHead.forward`` reshapes its ``N*F`` frame scores by its own
    ``num_segments`` T and ignores the frames per sample F it is given. When
    F is not a multiple of T but ``N*F`` is (e.g. 2 clips of 12 frames,
    T=8), test-time predictions come out silently wrong (3 scores shared out
    to 2 samples) and training fails with an unrelated broadcast error.
    Raise a clear error instead: training takes exactly T frames per sample
    (one view), testing a multiple of T (several clips or crops).

    Returns:
        bool: True if the repair was installed.
    """
    from mmaction.models.heads import TSMHead

    original = TSMHead.forward
    if getattr(original, '_selfy_checked', False):
        return False

    @functools.wraps(original)
    def forward(self, x, num_segs: int, **kwargs):
        if not isinstance(num_segs, int):
            return original(self, x, num_segs, **kwargs)
        if self.training and num_segs != self.num_segments:
            expected = f'exactly num_segments={self.num_segments}'
        elif num_segs % self.num_segments:
            expected = f'a multiple of num_segments={self.num_segments}'
        else:
            return original(self, x, num_segs, **kwargs)
        mode = 'training' if self.training else 'testing'
        raise ValueError(
            f'TSMHead: each sample has {num_segs} frames (features of shape '
            f'{tuple(x.shape)}); {mode} needs {expected} frames per sample: '
            f'set the pipeline\'s SampleFrames clip_len * num_clips (times '
            f'the crops when testing) accordingly')

    forward._selfy_checked = True
    TSMHead.forward = forward
    return True


def apply_stack_repairs():
    """Apply every repair; safe to call more than once."""
    repair_missing_drn()
    allow_checkpoint_globals()
    repair_cpu_distributed()
    repair_atomic_checkpoints()
    repair_tsm_head_segments()
