"""The only changes importing ``selfy_mmaction`` makes outside its registries.

Importing the plugin registers modules and replaces nothing of stock torch,
MMEngine or MMAction2. Everything our configs need beyond the stock
behaviour is a registered component they select by name
(``CheckedTSMHead``, ``AtomicCheckpointHook``, ``CPUDistributedRunner``).

Three things are applied at import, each because stock code fails outright on
the pinned stack without it, each gated on the versions that need it
(documented in docs/stack.md):

1. :func:`repair_missing_drn`: the mmaction2 1.2.0 wheel lacks
   ``mmaction/models/localizers/drn`` (mmaction2 issue #2714), so
   ``import mmaction.models`` fails. A stand-in module is added to
   ``sys.modules`` only when the folder is missing.
2. :func:`allow_checkpoint_globals`: torch >= 2.6 loads weights-only by
   default and MMEngine 0.10.7 does not say otherwise (mmengine issue #1655),
   so MMEngine's own checkpoints (message hub, numpy scalars) do not load.
   Exactly the globals such checkpoints hold are added to torch's
   weights-only allowlist; anything else is still refused.
3. :func:`register_config_package`: ``selfy_mmaction::<folder>/<file>.py``
   config bases resolve only for packages listed in MMEngine's
   ``MODULE2PACKAGE`` table (MMEngine issue #1410); an entry for this package
   is added, like a registry entry.
"""

import importlib.metadata
import importlib.util
import os.path as osp
import pickle
import sys
import types

import torch

#: mmaction2 releases whose wheel lacks ``models/localizers/drn``.
DRN_MISSING_IN = ('1.2.0',)
#: MMEngine releases that load checkpoints without ``weights_only=False``
#: and without an allowlist of their own.
WEIGHTS_ONLY_BROKEN_IN = ('0.10.7',)


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return ''


class _MissingDRN:
    """Stand-in for ``mmaction.models.localizers.DRN``: using it says why
    it is absent."""

    def __init__(self, *args, **kwargs):
        raise ImportError(
            'DRN is missing from the installed mmaction2 wheel '
            '(mmaction/models/localizers/drn, mmaction2 issue #2714); '
            'install mmaction2 from source to use DRN.'
        )


def repair_missing_drn(mmaction_dir=None, version=None):
    """Add stand-in modules for ``mmaction.models.localizers.drn``.

    Args:
        mmaction_dir (str, optional): Directory of the ``mmaction`` package.
            Defaults to the installed one.
        version (str, optional): mmaction2's version. Defaults to the
            installed one.

    Returns:
        bool: True if the stand-in was added; False where DRN exists, the
        stand-in is already there, or the version is not a broken one.
    """
    version = _version('mmaction2') if version is None else version
    if mmaction_dir is None:
        spec = importlib.util.find_spec('mmaction')
        mmaction_dir = osp.dirname(spec.origin)
    drn_dir = osp.join(mmaction_dir, 'models', 'localizers', 'drn')
    name = 'mmaction.models.localizers.drn'
    if (
        version not in DRN_MISSING_IN
        or osp.isdir(drn_dir)
        or name in sys.modules
    ):
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
        f'weights-only'
    )


def _empty_bytes(*args):
    """Stand-in for ``bytes`` while unpickling a checkpoint.

    Protocol-2 pickles write an empty ``bytes`` object (the data of an empty
    numpy array, e.g. a fresh message-hub ``HistoryBuffer``) as the call
    ``bytes()``. Only that call is allowed: ``bytes(n)`` would let a file
    allocate any amount of memory.
    """
    if args:
        raise pickle.UnpicklingError(
            f'checkpoint calls bytes{args!r}; only bytes() (an empty '
            f'buffer) is allowed when loading weights-only'
        )
    return b''


def checkpoint_safe_globals():
    """The exact non-tensor globals that MMEngine/MMAction2 checkpoints hold.

    Found by disassembling checkpoints written by MMEngine's Runner (train,
    resume, best; message hub with empty and filled buffers) and by MMAction2's
    model zoo tools: the message hub's ``HistoryBuffer`` with its numpy
    arrays and statistics methods, numpy scalars and arrays of every numeric
    dtype, and ``bytes()`` for empty arrays. Names are given for both numpy 1
    (``numpy.core``) and numpy 2 (``numpy._core``) pickles.
    """
    import numpy as np
    from mmengine.logging import HistoryBuffer

    multiarray = (
        np._core.multiarray if hasattr(np, '_core') else np.core.multiarray
    )
    safe = [HistoryBuffer, np.ndarray, np.dtype]
    for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        safe.append((multiarray._reconstruct, f'{module}._reconstruct'))
        safe.append((multiarray.scalar, f'{module}.scalar'))
    # numpy >= 1.25 pickles dtypes through their classes
    dtypes = getattr(np, 'dtypes', None)
    for kind in (
        'Bool',
        'Int8',
        'UInt8',
        'Int16',
        'UInt16',
        'Int32',
        'UInt32',
        'Int64',
        'UInt64',
        'Float16',
        'Float32',
        'Float64',
        'LongDouble',
        'Complex64',
        'Complex128',
        'CLongDouble',
    ):
        dtype_cls = getattr(dtypes, f'{kind}DType', None)
        if dtype_cls is not None:
            safe.append(dtype_cls)
    for name in ('builtins.getattr', '__builtin__.getattr'):
        safe.append((_history_buffer_getattr, name))
    for name in ('builtins.bytes', '__builtin__.bytes'):
        safe.append((_empty_bytes, name))
    return safe


def allow_checkpoint_globals(mmengine_version=None, torch_version=None):
    """Let ``torch.load(weights_only=True)`` read MMEngine checkpoints.

    Only where needed: torch >= 2.6 (weights-only by default) with an MMEngine
    release that does not handle it itself (:data:`WEIGHTS_ONLY_BROKEN_IN`).

    Returns:
        bool: True if the allowlist was extended.
    """
    mmengine_version = (
        _version('mmengine') if mmengine_version is None else mmengine_version
    )
    torch_version = (
        torch.__version__ if torch_version is None else torch_version
    )
    major, minor = (int(part) for part in torch_version.split('.')[:2])
    if (major, minor) < (
        2,
        6,
    ) or mmengine_version not in WEIGHTS_ONLY_BROKEN_IN:
        return False
    torch.serialization.add_safe_globals(checkpoint_safe_globals())
    return True


def register_config_package():
    """Let ``_base_ = 'selfy_mmaction::<folder>/<file>.py'`` resolve.

    MMEngine resolves ``pkg::path`` only for the packages in its
    ``MODULE2PACKAGE`` table; this adds our entry (module name -> pip
    distribution), which changes nothing for any other package. The configs
    are looked up in ``selfy_mmaction/.mim/configs`` (setup.py puts them
    there).
    """
    from mmengine.config.utils import MODULE2PACKAGE

    MODULE2PACKAGE.setdefault('selfy_mmaction', 'selfy-mmaction')


def apply_stack_repairs():
    """Apply the three import-time changes above; safe to call again."""
    repair_missing_drn()
    allow_checkpoint_globals()
    register_config_package()
