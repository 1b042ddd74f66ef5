"""The CPU runner's split of cores between intra-op threads and data workers
(env_cfg.cpu_budget), and ThroughputHook's clips/s."""

import glob
import logging
import os
import os.path as osp
import sys
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub

from selfy_mmaction.engine import (
    CPUBudget,
    ThroughputHook,
    build_runner,
    resolve_cpu_budget,
)
from selfy_mmaction.engine.cpu_budget import (
    busy_cores,
    cap_workers,
    local_processes,
)

sys.path.insert(
    0, osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'reliability')
)
from tiny_run import write_tiny_config  # noqa: E402


@pytest.mark.parametrize(
    'cores, processes, expected',
    [
        (2, 1, (2, 1)),
        (1, 1, (1, 1)),
        (16, 1, (16, 8)),
        (16, 4, (4, 2)),
        (2, 4, (1, 1)),  # more processes than cores: one each
    ],
)
def test_auto_splits_the_cores_among_processes(cores, processes, expected):
    assert resolve_cpu_budget(cores, processes) == CPUBudget(
        cores, processes, *expected
    )


@pytest.mark.parametrize(
    'busy, processes, threads',
    [(0.4, 1, 2), (0.6, 1, 1), (1.9, 1, 1), (2, 2, 1)],
)
def test_auto_threads_leave_the_busy_cores(busy, processes, threads):
    assert resolve_cpu_budget(2, processes, busy=busy).threads == threads
    assert resolve_cpu_budget(16, 1, busy=3.2).threads == 13
    # explicit values are kept whatever the load
    assert resolve_cpu_budget(2, 1, threads=2, busy=busy).threads == 2


def test_busy_cores_reads_the_machine():
    busy = busy_cores(0.05)
    assert 0.0 <= busy <= os.cpu_count()


def test_explicit_values_and_none():
    assert resolve_cpu_budget(8, 1, threads=3, workers=5)[2:] == (3, 5)
    assert resolve_cpu_budget(8, 1, threads=None, workers=None)[2:] == (0, 0)


@pytest.mark.parametrize('value', [0, -1, 2.5, True, 'all'])
def test_bad_values_are_named(value):
    with pytest.raises(ValueError, match=r'cpu_budget\.workers'):
        resolve_cpu_budget(4, 1, workers=value)
    with pytest.raises(ValueError, match=r'cpu_budget\.threads'):
        resolve_cpu_budget(4, 1, threads=value)
    with pytest.raises(ValueError, match='cores'):
        resolve_cpu_budget(0, 1)


def test_cap_workers_only_lowers():
    cfg = dict(batch_size=8, num_workers=4, persistent_workers=True)
    assert cap_workers(cfg, 2) == dict(cfg, num_workers=2)
    assert cfg['num_workers'] == 4  # a copy
    assert cap_workers(cfg, 8) is cfg
    assert cap_workers(cfg, 0) is cfg
    assert cap_workers(None, 2) is None


def test_local_processes_reads_the_launchers(monkeypatch):
    for name in (
        'LOCAL_WORLD_SIZE',
        'SLURM_NTASKS_PER_NODE',
        'OMPI_COMM_WORLD_LOCAL_SIZE',
        'WORLD_SIZE',
    ):
        monkeypatch.delenv(name, raising=False)
    assert local_processes(distributed=True) == 1
    monkeypatch.setenv('WORLD_SIZE', '8')
    assert local_processes(distributed=True) == 8
    monkeypatch.setenv('LOCAL_WORLD_SIZE', '4')
    assert local_processes(distributed=True) == 4
    assert local_processes(distributed=False) == 1


@pytest.fixture
def threads_restored():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def _runner(tmp_path, budget, num_workers=8):
    cfg = Config.fromfile(write_tiny_config(tmp_path, num_workers=num_workers))
    cfg.work_dir = str(tmp_path / 'work')
    cfg.env_cfg.cpu_budget = budget
    return build_runner(cfg)


@pytest.fixture
def idle_machine(monkeypatch):
    monkeypatch.setattr('selfy_mmaction.engine.runner.busy_cores', lambda: 0.0)


def test_runner_applies_the_budget_and_logs_it(
    tmp_path, monkeypatch, threads_restored, idle_machine
):
    monkeypatch.delenv('OMP_NUM_THREADS', raising=False)
    torch.set_num_threads(1)
    runner = _runner(tmp_path, dict(cores=4, threads='auto', workers='auto'))
    assert torch.get_num_threads() == 4
    assert runner.cpu_budget == CPUBudget(4, 1, 4, 2)
    for loader in ('_train_dataloader', '_val_dataloader', '_test_dataloader'):
        assert getattr(runner, loader)['num_workers'] == 2
    assert runner.cfg.train_dataloader.num_workers == 8  # config untouched
    (log,) = glob.glob(osp.join(runner.log_dir, '*.log'))
    with open(log) as f:
        assert 'CPU budget (env_cfg.cpu_budget): 4 cores' in f.read()


def test_runner_leaves_the_cores_other_programs_use(
    tmp_path, monkeypatch, threads_restored
):
    monkeypatch.delenv('OMP_NUM_THREADS', raising=False)
    monkeypatch.setattr('selfy_mmaction.engine.runner.busy_cores', lambda: 1.2)
    runner = _runner(tmp_path, dict(cores=4, threads='auto', workers='auto'))
    assert torch.get_num_threads() == 3
    assert runner.cpu_budget == CPUBudget(4, 1, 3, 2)
    # the loaders are built with the capped count
    assert runner.train_dataloader.num_workers == 2


def test_omp_num_threads_set_by_the_user_is_kept(
    tmp_path, monkeypatch, threads_restored, idle_machine
):
    monkeypatch.setenv('OMP_NUM_THREADS', '1')
    torch.set_num_threads(1)
    runner = _runner(tmp_path, dict(cores=4, threads='auto', workers='auto'))
    assert torch.get_num_threads() == 1
    assert runner.cpu_budget.threads == 0
    assert runner._train_dataloader['num_workers'] == 2


def test_no_budget_and_cuda_runs_are_left_as_configured(
    tmp_path, monkeypatch, threads_restored, idle_machine
):
    monkeypatch.delenv('OMP_NUM_THREADS', raising=False)
    torch.set_num_threads(1)
    runner = _runner(tmp_path, None)
    assert runner.cpu_budget is None
    assert runner._train_dataloader['num_workers'] == 8
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    runner.setup_env(dict(cpu_budget=dict(cores=4)))
    assert runner.cpu_budget is None
    assert torch.get_num_threads() == 1
    assert runner._train_dataloader['num_workers'] == 8


def test_unknown_budget_key_is_named(tmp_path, threads_restored):
    with pytest.raises(KeyError, match=r"unknown keys \['thread'\]"):
        _runner(tmp_path, dict(thread=2))


def test_throughput_hook_counts_clips(monkeypatch, caplog):
    clock = iter([10.0, 10.5, 11.5, 11.5])
    monkeypatch.setattr(
        'selfy_mmaction.engine.hooks.time.perf_counter', lambda: next(clock)
    )
    hub = MessageHub.get_instance('test_throughput_hook')
    runner = SimpleNamespace(
        epoch=3, message_hub=hub, logger=logging.getLogger('test_throughput')
    )
    hook = ThroughputHook()
    hook.before_train_epoch(runner)  # t = 10
    batch = dict(inputs=[torch.zeros(8, 3, 4, 4)] * 4)
    hook.after_train_iter(runner, 0, batch)  # 4 clips in 0.5 s
    assert hub.get_scalar('train/clips_per_s').current() == pytest.approx(8)
    hook.after_train_iter(runner, 1, batch)  # 4 clips in 1 s
    assert hub.get_scalar('train/clips_per_s').current() == pytest.approx(4)
    with caplog.at_level(logging.INFO, logger='test_throughput'):
        hook.after_train_epoch(
            runner
        )  # 8 clips in 1.5 s (epoch 3 counts from 0)
    assert hub.get_info('train/epoch_clips_per_s') == pytest.approx(8 / 1.5)
    assert 'Epoch 4: 8 training clips in 1.5 s, 5.33 clips/s' in caplog.text
