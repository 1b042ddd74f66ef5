"""Safe checkpoint files: atomic writes, and a strict fit check with a clear
report.

Atomic writes: a file is written to a hidden temporary file in the same
directory, flushed to disk (fsync) and renamed over the target
(``os.replace``), so a crash or SIGKILL during a save leaves either the old
file or the complete new one, never a truncated file.
:class:`AtomicLocalBackend` (MMEngine file backend ``'atomic_local'``) and
:class:`~selfy_mmaction.engine.AtomicCheckpointHook` write checkpoints and
``last_checkpoint`` through it.
"""

import glob
import os
import os.path as osp
import uuid
from collections import OrderedDict
from typing import Union

from mmengine.fileio import LocalBackend, register_backend
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
    for stale in glob.glob(
        osp.join(glob.escape(dirname), f'.{glob.escape(basename)}.*.tmp')
    ):
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


class AtomicLocalBackend(LocalBackend):
    """MMEngine's local file backend, writing files atomically.

    Registered with MMEngine's file backends as ``'atomic_local'`` (a name of
    its own; the ``'local'`` backend is unchanged).
    :class:`~selfy_mmaction.engine.AtomicCheckpointHook` saves checkpoints
    through it.
    """

    def put(self, obj: bytes, filepath) -> None:
        atomic_write(str(filepath), obj)

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        atomic_write(str(filepath), obj.encode(encoding))


register_backend('atomic_local', AtomicLocalBackend)


class DeferredRemoval:
    """Wraps a file backend so that ``remove``/``rmtree`` are only recorded,
    to be carried out by :meth:`flush` (after a save succeeded)."""

    def __init__(self, backend):
        self._backend = backend
        self.pending = []

    def __getattr__(self, name):
        return getattr(self._backend, name)

    def remove(self, path):
        self.pending.append(('remove', path))

    def rmtree(self, path):
        self.pending.append(('rmtree', path))

    def flush(self, keep=()):
        """Carry out the recorded removals, except of the paths in
        ``keep``."""
        for operation, path in self.pending:
            if path not in keep:
                getattr(self._backend, operation)(path)
        self.pending = []


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
            f'expected a dict of tensors'
        )
    return OrderedDict(
        (k[len('module.') :] if k.startswith('module.') else k, v)
        for k, v in state.items()
    )


def _listing(keys, limit=8):
    shown = ', '.join(keys[:limit])
    return shown + (
        f' ... and {len(keys) - limit} more' if len(keys) > limit else ''
    )


def mismatch_report(
    model: nn.Module,
    checkpoint: Union[str, dict],
    source: str = 'the checkpoint',
) -> str:
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
    shapes = [
        (k, tuple(found[k].shape), tuple(v.shape))
        for k, v in expected.items()
        if k in found
        and hasattr(found[k], 'shape')
        and tuple(found[k].shape) != tuple(v.shape)
    ]
    # BN counters are absent from old files and re-created on load
    missing = [
        k
        for k in expected
        if k not in found and not k.endswith('num_batches_tracked')
    ]
    unexpected = [k for k in found if k not in expected]
    if not (shapes or missing or unexpected):
        return ''
    lines = [f'{source} does not fit the model ({type(model).__name__}):']
    if shapes:
        lines.append(
            f'  {len(shapes)} keys differ in shape (checkpoint vs model):'
        )
        lines += [f'    {k}: {a} vs {b}' for k, a, b in shapes]
        head = next(
            (
                (a, b)
                for k, a, b in shapes
                if k.startswith('cls_head.') and len(a) == 2
            ),
            None,
        )
        if head is not None:
            lines.append(
                f'  the classifier was trained for {head[0][0]} '
                f'classes; the model has {head[1][0]} '
                f'(model.cls_head.num_classes)'
            )
    if missing:
        lines.append(
            f'  {len(missing)} model keys are missing from the '
            f'checkpoint: {_listing(missing)}'
        )
    if unexpected:
        lines.append(
            f'  {len(unexpected)} checkpoint keys are not in the '
            f'model: {_listing(unexpected)}'
        )
    lines += [
        'To evaluate it, use the config it was trained with. To start from '
        'it anyway (keys that do not fit keep their initialisation), load '
        'it non-strictly, the standard MMEngine ways:',
        f"  - in the training config: load_from = '{source}' (the Runner "
        'loads with strict=False and warns about the keys it skips);',
        '  - in code: mmengine.runner.load_checkpoint(model, '
        f"'{source}', strict=False);",
        '  - only the backbone: model.backbone.init_cfg = dict('
        f"type='Pretrained', checkpoint='{source}', prefix='backbone.').",
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
