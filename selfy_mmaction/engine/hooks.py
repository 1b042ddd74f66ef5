"""Hooks for exact resume, for reporting skipped samples and throughput.

Add them to a config with ``custom_hooks = [dict(type='RNGStateHook'),
dict(type='CorruptSampleHook'), dict(type='ThroughputHook')]``
(``configs/_base_/motion_runtime.py`` does).
"""

import time
from typing import Iterator, Optional

from mmaction.registry import HOOKS
from mmengine.dist import get_world_size
from mmengine.hooks import Hook
from mmengine.runner import EpochBasedTrainLoop

from .rng import rng_states, set_rng_states


def _datasets(dataset) -> Iterator:
    """``dataset`` and every dataset wrapped inside it (Repeat, Concat,
    ClassBalanced, MMEngine's sliced dataset...)."""
    yield dataset
    inner = getattr(dataset, 'dataset', None)
    if inner is not None:
        yield from _datasets(inner)
    for inner in getattr(dataset, 'datasets', None) or []:
        yield from _datasets(inner)


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Make ``--resume`` continue a run exactly as if it had never stopped.

    MMEngine saves the model, optimizer, schedulers and message hub but no
    random state, and the random streams also move with things a resumed run
    does not repeat (the validation run after the last checkpoint, the
    creation of data loader iterators, persistent workers' own streams). This
    hook:

    - stores the Python/NumPy/torch (and CUDA) generator states in every
      checkpoint (``checkpoint['rng_states']``, tensors and ints only, so it
      still loads weights-only) and puts them back before the first training
      iteration after a resume;
    - keeps validation and the data loader's iterator creation off the
      training stream: the states before them are put back after them;
    - tells every dataset that supports it (``set_sample_seed``, e.g. the
      ``Checked*Dataset`` types) the run's seed and the epoch, so a sample's
      augmentation is a function of (seed, epoch, index) only, whichever
      worker or process draws it (epoch-based loops only).

    With the same seed, a run killed at any point and resumed from its last
    checkpoint ends with the same weights as an uninterrupted run (bitwise on
    CPU, see tests/reliability/test_exact_resume.py).

    Limits: MMEngine saves checkpoints on rank 0 only, so with
    ``randomness.diff_rank_seed=True`` the other ranks resume with rank 0's
    states (a warning says so). An epoch-based loop restarts a checkpointed
    epoch from its beginning (MMEngine's behaviour), so only checkpoints saved
    at epoch ends resume exactly there.
    """

    priority = 'LOWEST'  # restore after other hooks ran

    def __init__(self):
        self._resumed_states = None
        self._epoch_states = None
        self._val_states = None

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._resumed_states = checkpoint.get('rng_states')

    def before_train(self, runner) -> None:
        if runner.iter == 0:  # loaded with `load_from`, not resumed
            self._resumed_states = None
            return
        if self._resumed_states is None:
            runner.logger.warning(
                'RNGStateHook: the resumed checkpoint has no `rng_states` '
                '(saved without this hook); the resumed run is not an exact '
                'continuation'
            )
        elif get_world_size() > 1 and runner._randomness_cfg.get(
            'diff_rank_seed', False
        ):
            runner.logger.warning(
                'RNGStateHook: with diff_rank_seed=True only rank 0 random '
                'states are saved; every rank resumes with them'
            )

    def before_train_epoch(self, runner) -> None:
        if isinstance(runner.train_loop, EpochBasedTrainLoop):
            for dataset in _datasets(runner.train_dataloader.dataset):
                if hasattr(dataset, 'set_sample_seed'):
                    dataset.set_sample_seed(runner.seed, runner.epoch)
        self._epoch_states = rng_states()

    def before_train_iter(
        self, runner, batch_idx: int, data_batch=None
    ) -> None:
        if self._resumed_states is not None:
            set_rng_states(self._resumed_states)
        elif self._epoch_states is not None:
            # undo what creating the data loader iterator drew
            set_rng_states(self._epoch_states)
        self._resumed_states = self._epoch_states = None

    def before_val(self, runner) -> None:
        self._val_states = rng_states()

    def after_val(self, runner) -> None:
        if self._val_states is not None:
            set_rng_states(self._val_states)
        self._val_states = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        # a best checkpoint is saved during validation: store the training
        # stream, which after_val puts back
        checkpoint['rng_states'] = (
            self._val_states if self._val_states is not None else rng_states()
        )


@HOOKS.register_module()
class CorruptSampleHook(Hook):
    """Log, after every training epoch, how many training samples were skipped
    as unreadable (datasets with ``skip_corrupt=True``) and which ones.

    The count goes into the message hub as ``train/num_corrupt_samples``.

    Args:
        max_listed (int): Most file names listed in the log. Defaults to 10.
    """

    priority = 'NORMAL'

    def __init__(self, max_listed: int = 10):
        self.max_listed = max_listed

    def after_train_epoch(self, runner) -> None:
        corrupt = []
        for dataset in _datasets(runner.train_dataloader.dataset):
            if hasattr(dataset, 'corrupt_samples'):
                corrupt.extend(dataset.corrupt_samples())
        runner.message_hub.update_info(
            'train/num_corrupt_samples', len(corrupt)
        )
        if corrupt:
            listed = ', '.join(corrupt[: self.max_listed])
            more = len(corrupt) - self.max_listed
            runner.logger.warning(
                f'{len(corrupt)} corrupt training samples skipped so far: '
                f'{listed}' + (f' and {more} more' if more > 0 else '')
            )


@HOOKS.register_module()
class ThroughputHook(Hook):
    """Log training throughput in clips per second, over all processes.

    Every iteration puts ``train/clips_per_s`` (the batch's clips, times the
    world size, over the wall time since the previous iteration ended: data
    loading included) into the message hub, so MMEngine's log lines show it
    averaged over the logging interval. After every epoch it logs the
    epoch's clips, wall time and clips per second.
    """

    priority = 'NORMAL'

    def __init__(self) -> None:
        self._iter_start: Optional[float] = None
        self._epoch_start = 0.0
        self._epoch_clips = 0

    def before_train_epoch(self, runner) -> None:
        self._epoch_start = self._iter_start = time.perf_counter()
        self._epoch_clips = 0

    def after_train_iter(
        self, runner, batch_idx: int, data_batch=None, outputs=None
    ) -> None:
        now = time.perf_counter()
        clips = _batch_clips(data_batch) * get_world_size()
        if self._iter_start is not None and now > self._iter_start:
            runner.message_hub.update_scalar(
                'train/clips_per_s', clips / (now - self._iter_start)
            )
        self._iter_start = now
        self._epoch_clips += clips

    def after_train_epoch(self, runner) -> None:
        elapsed = time.perf_counter() - self._epoch_start
        runner.message_hub.update_info(
            'train/epoch_clips_per_s', self._epoch_clips / elapsed
        )
        runner.logger.info(
            f'Epoch {runner.epoch + 1}: {self._epoch_clips} training clips in '
            f'{elapsed:.1f} s, {self._epoch_clips / elapsed:.2f} clips/s'
        )


def _batch_clips(data_batch) -> int:
    """Samples in a batch of MMAction2's collate (``dict(inputs=[...])`` or a
    stacked tensor); 0 if there is no batch."""
    if isinstance(data_batch, dict):
        data_batch = data_batch.get('inputs')
    if data_batch is None:
        return 0
    return len(data_batch)
