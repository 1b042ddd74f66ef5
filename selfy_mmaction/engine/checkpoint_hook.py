"""A checkpoint hook whose saves never leave a run without a good checkpoint.

Select it in a config (``configs/_base_/default_runtime.py`` does)::

    default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook', ...))
"""

import os.path as osp

from mmaction.registry import HOOKS
from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook

from ..utils.checkpoint import (
    AtomicLocalBackend,
    DeferredRemoval,
    atomic_write,
)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """MMEngine's ``CheckpointHook`` with crash-safe saves.

    MMEngine 0.10.7 writes a checkpoint straight into its final file and
    ``last_checkpoint`` with a plain ``open``, and deletes the outdated
    checkpoint before it saves the new one: a crash or SIGKILL during a save
    leaves a truncated file that ``--resume`` then picks up, or (with
    ``max_keep_ckpts=1``) no checkpoint at all. This hook, with every
    argument of ``CheckpointHook``:

    - writes checkpoints on a local disk through
      :class:`~selfy_mmaction.utils.checkpoint.AtomicLocalBackend` (temporary
      file, fsync, rename) and ``last_checkpoint`` the same way;
    - deletes outdated checkpoints (``max_keep_ckpts``, a replaced best
      checkpoint) only after the new one is saved.

    Other storage backends (``backend_args`` naming one, or an ``out_dir``
    with a URI prefix) are used as ``CheckpointHook`` uses them.
    """

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if type(self.file_backend) is LocalBackend:
            self.file_backend = AtomicLocalBackend()
            self.backend_args = dict(
                self.backend_args or {}, backend='atomic_local'
            )

    def _outdated_step(self, runner, step):
        """Track ``step`` among the kept checkpoints; return the step whose
        checkpoint falls out of ``max_keep_ckpts`` (or None)."""
        if self.max_keep_ckpts <= 0 or (
            self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step
        ):
            return None
        outdated = None
        if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
            outdated = self.keep_ckpt_ids.popleft()
        self.keep_ckpt_ids.append(step)
        runner.message_hub.update_info(
            'keep_ckpt_ids', list(self.keep_ckpt_ids)
        )
        return outdated

    def _save_checkpoint_with_step(self, runner, step, meta):
        outdated = self._outdated_step(runner, step)
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir,
            filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args,
        )
        if not is_main_process():
            return
        atomic_write(
            osp.join(runner.work_dir, 'last_checkpoint'),
            self.last_ckpt.encode('utf-8'),
        )
        if outdated is not None:
            path = self.file_backend.join_path(
                self.out_dir, self.filename_tmpl.format(outdated)
            )
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):  # deepspeed checkpoints
                self.file_backend.rmtree(path)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        backend = self.file_backend
        deferred = self.file_backend = DeferredRemoval(backend)
        try:
            super()._save_best_checkpoint(runner, metrics)
        finally:
            self.file_backend = backend
        # never the file just written (a best checkpoint of the same name)
        best = getattr(self, 'best_ckpt_path_dict', None) or {}
        deferred.flush(
            keep={
                self.last_ckpt,
                getattr(self, 'best_ckpt_path', None),
                *best.values(),
            }
        )
