"""RNGStateHook and CorruptSampleHook event by event, with a stand-in
runner (the end-to-end check is tests/reliability/test_exact_resume.py)."""

import logging
from types import SimpleNamespace

import torch
from mmengine.logging import MessageHub
from mmengine.runner import EpochBasedTrainLoop

from selfy_mmaction.engine import (
    CorruptSampleHook,
    RNGStateHook,
    rng_states,
    set_rng_states,
)


class _Dataset:
    def __init__(self, inner=None):
        self.dataset = inner
        self.seed_calls = []

    def set_sample_seed(self, seed, epoch):
        self.seed_calls.append((seed, epoch))

    def corrupt_samples(self):
        return ['a.mp4', 'b.mp4']


def _runner(iteration=0, dataset=None):
    loop = EpochBasedTrainLoop.__new__(EpochBasedTrainLoop)
    return SimpleNamespace(
        iter=iteration,
        epoch=2,
        seed=7,
        train_loop=loop,
        train_dataloader=SimpleNamespace(dataset=dataset or _Dataset()),
        logger=logging.getLogger('test_hooks'),
        _randomness_cfg={},
        message_hub=MessageHub.get_instance('test_hooks'),
    )


def test_validation_leaves_the_training_stream_alone():
    hook, runner = RNGStateHook(), _runner()
    hook.before_val(runner)
    expected = torch.rand(3)  # what training would draw next
    set_rng_states(hook._val_states)
    torch.rand(10)  # validation draws
    checkpoint = {}
    hook.before_save_checkpoint(runner, checkpoint)  # a best checkpoint
    hook.after_val(runner)
    assert torch.equal(torch.rand(3), expected)
    set_rng_states(checkpoint['rng_states'])
    assert torch.equal(torch.rand(3), expected)


def test_loader_iterator_creation_is_undone_at_the_first_iteration():
    hook, runner = RNGStateHook(), _runner()
    hook.before_train_epoch(runner)
    expected = torch.rand(3)
    set_rng_states(hook._epoch_states)
    torch.empty((), dtype=torch.int64).random_()  # DataLoader's base seed
    hook.before_train_iter(runner, batch_idx=0)
    assert torch.equal(torch.rand(3), expected)
    later = rng_states()
    hook.before_train_iter(runner, batch_idx=1)  # no restore afterwards
    assert torch.equal(rng_states()['torch'], later['torch'])


def test_resume_restores_the_checkpoint_states_at_the_first_iteration():
    hook = RNGStateHook()
    saved = {}
    hook.before_save_checkpoint(_runner(), saved)
    expected = torch.rand(3)
    torch.rand(100)
    runner = _runner(iteration=8)
    hook.after_load_checkpoint(runner, saved)
    hook.before_train(runner)
    hook.before_train_epoch(runner)
    torch.rand(5)
    hook.before_train_iter(runner, batch_idx=0)
    assert torch.equal(torch.rand(3), expected)


def test_load_from_is_not_a_resume():
    hook = RNGStateHook()
    saved = {}
    hook.before_save_checkpoint(_runner(), saved)
    runner = _runner(iteration=0)
    hook.after_load_checkpoint(runner, saved)
    hook.before_train(runner)
    assert hook._resumed_states is None


def test_sample_seed_reaches_wrapped_datasets():
    inner = _Dataset()
    runner = _runner(dataset=_Dataset(inner))
    RNGStateHook().before_train_epoch(runner)
    assert inner.seed_calls == [(7, 2)]
    assert runner.train_dataloader.dataset.seed_calls == [(7, 2)]


def test_corrupt_sample_hook_counts_and_lists(caplog):
    runner = _runner()
    with caplog.at_level(logging.WARNING, logger='test_hooks'):
        CorruptSampleHook(max_listed=1).after_train_epoch(runner)
    assert runner.message_hub.get_info('train/num_corrupt_samples') == 2
    assert (
        '2 corrupt training samples skipped so far: a.mp4 and 1 more'
        in caplog.text
    )
