"""Safe checkpoint files: atomic writes, and a strict fit check with a clear
report.

Atomic writes: a file is written to a hidden temporary file in the same
directory, flushed to disk (fsync) and renamed over the target
(``os.replace``), so a crash or SIGKILL during a save leaves either the old
file or the complete new one, never a truncated file.
``selfy_mmaction.utils.stack.repair_atomic_checkpoints`` routes MMEngine's
checkpoint and ``last_checkpoint`` writes through it.
"""
import builtins
import functools
import glob
import io
import os
import os.path as osp
import uuid
from collections import OrderedDict
from typing import Union

import torch
from torch import nn


def _fsync_dir(dirname: str):
    fd = os.open(dirname, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(filepath: str, data: bytes):
    """Write ``data`` to ``filepath`` atomically (temp file, fsync, rename).

    Leftover temporary files of the same target from a killed writer are
    removed first.
    """
    filepath = osp.abspath(filepath)
    dirname, basename = osp.split(filepath)
    os.makedirs(dirname, exist_ok=True)
    for stale in glob.glob(osp.join(glob.escape(dirname),
                                    f'.{glob.escape(basename)}.*.tmp')):
        os.remove(stale)
    tmp = osp.join(dirname, f'.{basename}.{uuid.uuid4().hex[:12]}.tmp')
    try:
        # os.open (not mkstemp) so the file gets the usual umask permissions
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    _fsync_dir(dirname)


def atomic_put(backend, obj: bytes, filepath) -> None:
    """``LocalBackend.put`` writing atomically."""
    atomic_write(str(filepath), obj)


def atomic_put_text(backend, obj: str, filepath,
                    encoding: str = 'utf-8') -> None:
    """``LocalBackend.put_text`` writing atomically."""
    atomic_write(str(filepath), obj.encode(encoding))


class _AtomicTextFile(io.StringIO):
    """Collects text; writes it atomically when closed without an error."""

    def __init__(self, path: str):
        super().__init__()
        self.path = path

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            atomic_write(self.path, self.getvalue().encode('utf-8'))
        return super().__exit__(exc_type, exc, tb)


def atomic_open(file, mode: str = 'r', *args, **kwargs):
    """``open`` for modules that write small text files: ``'w'`` writes
    atomically when the ``with`` block ends; every other mode is ``open``."""
    if mode == 'w' and not args and not kwargs:
        return _AtomicTextFile(os.fspath(file))
    return builtins.open(file, mode, *args, **kwargs)


class _DeferredRemoval:
    """A file backend whose ``remove``/``rmtree`` are only recorded."""

    def __init__(self, backend, pending: list):
        self._backend = backend
        self._pending = pending

    def __getattr__(self, name):
        return getattr(self._backend, name)

    def remove(self, path):
        self._pending.append(('remove', path))

    def rmtree(self, path):
        self._pending.append(('rmtree', path))


def remove_after_save(save):
    """Wrap a ``CheckpointHook`` save method so that the outdated
    checkpoints it deletes are deleted only after the new one is saved
    (MMEngine deletes first: with ``max_keep_ckpts=1`` a crash during the
    save would leave no checkpoint at all)."""

    @functools.wraps(save)
    def wrapper(hook, runner, *args, **kwargs):
        backend, pending = hook.file_backend, []
        hook.file_backend = _DeferredRemoval(backend, pending)
        try:
            result = save(hook, runner, *args, **kwargs)
        finally:
            hook.file_backend = backend
        # never the file just written (an old best of the same name)
        best = getattr(hook, 'best_ckpt_path_dict', None) or {}
        current = {hook.last_ckpt, getattr(hook, 'best_ckpt_path', None),
                   *best.values()}
        for operation, path in pending:
            if path not in current:
                getattr(backend, operation)(path)
        return result

    wrapper._selfy_deferred = True
    return wrapper


class CheckpointMismatchError(RuntimeError):
    """A checkpoint's weights do not fit the model."""


def checkpoint_state_dict(checkpoint: dict) -> dict:
    """The model weights of a loaded checkpoint (MMEngine/MMAction2 files
    hold them under ``state_dict``; a bare state dict is taken as is), with
    DDP's ``module.`` prefix removed as MMEngine's loader does."""
    state = checkpoint.get('state_dict', checkpoint)
    if not isinstance(state, dict):
        raise CheckpointMismatchError(
            f'checkpoint["state_dict"] is a {type(state).__name__}, '
            f'expected a dict of tensors')
    return OrderedDict((k[len('module.'):] if k.startswith('module.') else k,
                        v) for k, v in state.items())


def _listing(keys, limit=8):
    shown = ', '.join(keys[:limit])
    return shown + (f' ... and {len(keys) - limit} more'
                    if len(keys) > limit else '')


def mismatch_report(model: nn.Module, checkpoint: Union[str, dict],
                    source: str = 'the checkpoint') -> str:
    """Describe how a checkpoint's weights differ from the model's, with
    the standard ways to load it non-strictly; ``''`` if they fit.

    Args:
        model (nn.Module): The model (a DDP wrapper is unwrapped).
        checkpoint (dict): A loaded checkpoint or state dict.
        source (str): Name of the checkpoint in the message (its path).
    """
    model = getattr(model, 'module', model)
    expected = model.state_dict()
    found = checkpoint_state_dict(checkpoint)
    shapes = [(k, tuple(found[k].shape), tuple(v.shape))
              for k, v in expected.items()
              if k in found and hasattr(found[k], 'shape')
              and tuple(found[k].shape) != tuple(v.shape)]
    # BN counters are absent from old files and re-created on load
    missing = [k for k in expected if k not in found
               and not k.endswith('num_batches_tracked')]
    unexpected = [k for k in found if k not in expected]
    if not (shapes or missing or unexpected):
        return ''
    lines = [f'{source} does not fit the model ({type(model).__name__}):']
    if shapes:
        lines.append(f'  {len(shapes)} keys differ in shape (checkpoint vs '
                     f'model):')
        lines += [f'    {k}: {a} vs {b}' for k, a, b in shapes]
        head = next(((a, b) for k, a, b in shapes
                     if k.startswith('cls_head.') and len(a) == 2), None)
        if head is not None:
            lines.append(f'  the classifier was trained for {head[0][0]} '
                         f'classes; the model has {head[1][0]} '
                         f'(model.cls_head.num_classes)')
    if missing:
        lines.append(f'  {len(missing)} model keys are missing from the '
                     f'checkpoint: {_listing(missing)}')
    if unexpected:
        lines.append(f'  {len(unexpected)} checkpoint keys are not in the '
                     f'model: {_listing(unexpected)}')
    lines += [
        'To evaluate it, use the config it was trained with. To start from '
        'it anyway (keys that do not fit keep their initialisation), load '
        'it non-strictly, the standard MMEngine ways:',
        f"  - in the training config: load_from = '{source}' (the Runner "
        'loads with strict=False and warns about the keys it skips);',
        '  - in code: mmengine.runner.load_checkpoint(model, '
        f"'{source}', strict=False);",
        "  - only the backbone: model.backbone.init_cfg = dict("
        f"type='Pretrained', checkpoint='{source}', prefix='backbone.')."
    ]
    return '\n'.join(lines)


def check_checkpoint_fits(model: nn.Module, filename: str) -> dict:
    """Load ``filename`` (weights-only) and raise
    :class:`CheckpointMismatchError` with :func:`mismatch_report` unless its
    weights fit ``model`` exactly.

    Returns:
        dict: The loaded checkpoint.
    """
    from mmengine.runner.checkpoint import _load_checkpoint
    checkpoint = _load_checkpoint(filename, map_location='cpu')
    report = mismatch_report(model, checkpoint, source=filename)
    if report:
        raise CheckpointMismatchError(report)
    return checkpoint
