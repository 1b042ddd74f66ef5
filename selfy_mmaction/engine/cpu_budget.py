"""How many intra-op threads and data workers a CPU training process uses.

On a machine without CUDA the model's matrix products (PyTorch's intra-op
threads), the data workers (decoding and augmenting clips) and whatever else
runs on the machine share the same cores. PyTorch starts one intra-op thread
per core in every process; when one of them is descheduled, every parallel
region waits for it, so a step slows down far more than the lost core's
share. :class:`CPUDistributedRunner` reads ``env_cfg.cpu_budget`` when the run starts and gives each of the
``processes`` on this machine ``cores // processes`` cores, less the cores
other programs keep busy at that moment (sampled from ``/proc/stat``), as
intra-op threads, and at most ``max(1, share // 2)`` workers per data loader
(never more than the config asks for). Runs with CUDA are left as configured,
and an ``OMP_NUM_THREADS`` set in the environment is kept as the thread count.

    env_cfg = dict(cpu_budget=dict(threads='auto', workers='auto'))
    # --cfg-options env_cfg.cpu_budget.threads=1 env_cfg.cpu_budget.workers=2
    # env_cfg.cpu_budget=None: threads and workers as configured
"""

import os
import time
from typing import NamedTuple, Optional, Union


class CPUBudget(NamedTuple):
    """What one process uses: ``threads`` intra-op threads and at most
    ``workers`` workers per data loader; ``cores`` and ``processes`` (on this
    machine) it was derived from."""

    cores: int
    processes: int
    threads: int
    workers: int


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the system
    reports one, else ``os.cpu_count()``)."""
    if hasattr(os, 'sched_getaffinity'):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def busy_cores(seconds: float = 0.5) -> float:
    """Cores that other programs keep busy: the machine's non-idle CPU time
    over ``seconds`` (``/proc/stat``; this process sleeps meanwhile) in
    cores; 0 where ``/proc/stat`` cannot be read."""

    def sample() -> Optional[tuple[int, int]]:
        try:
            with open('/proc/stat') as f:
                fields = [int(v) for v in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        idle = sum(fields[3:5])  # idle, iowait
        return sum(fields[:8]) - idle, sum(fields[:8])

    first = sample()
    time.sleep(seconds)
    second = sample()
    if first is None or second is None or second[1] <= first[1]:
        return 0.0
    fraction = (second[0] - first[0]) / (second[1] - first[1])
    return fraction * (os.cpu_count() or 1)


def local_processes(distributed: bool) -> int:
    """Training processes on this machine: the launchers' local world size
    (torchrun, slurm, mpi), else the world size, else 1."""
    if not distributed:
        return 1
    for name in (
        'LOCAL_WORLD_SIZE',
        'SLURM_NTASKS_PER_NODE',
        'OMPI_COMM_WORLD_LOCAL_SIZE',
        'WORLD_SIZE',
    ):
        value = os.environ.get(name, '')
        if value.isdigit() and int(value) > 0:
            return int(value)
    return 1


def resolve_cpu_budget(
    cores: int,
    processes: int = 1,
    threads: Union[int, str, None] = 'auto',
    workers: Union[int, str, None] = 'auto',
    busy: float = 0.0,
) -> CPUBudget:
    """The budget of one of ``processes`` processes sharing ``cores``.

    Args:
        cores (int): Cores of the machine available to the job.
        processes (int): Training processes on the machine.
        threads: ``'auto'``: ``cores // processes`` less this process's
            part of the ``busy`` cores (rounded), at least 1; an int: that
            many; ``None``: 0 (leave PyTorch's setting).
        workers: ``'auto'``: ``max(1, threads_share // 2)`` where
            ``threads_share = max(1, cores // processes)``; an int: at most
            that many; ``None``: 0 (leave the configs' values).
        busy (float): Cores other programs keep busy (:func:`busy_cores`).

    Returns:
        CPUBudget: 0 in ``threads`` or ``workers`` means unchanged.
    """
    if cores < 1 or processes < 1:
        raise ValueError(
            f'cpu_budget: cores ({cores}) and processes ({processes}) must '
            'be at least 1'
        )
    share = max(1, cores // processes)
    free = max(1, share - round(busy / processes))
    return CPUBudget(
        cores,
        processes,
        _resolve('threads', threads, free),
        _resolve('workers', workers, max(1, share // 2)),
    )


def _resolve(name: str, value: Union[int, str, None], auto: int) -> int:
    if value is None:
        return 0
    if value == 'auto':
        return auto
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"env_cfg.cpu_budget.{name} must be 'auto', None or a positive "
            f'int, got {value!r}'
        )
    return value


def cap_workers(
    dataloader_cfg: Optional[dict], workers: int
) -> Optional[dict]:
    """A copy of a data loader config with ``num_workers`` at most
    ``workers`` (0: unchanged); anything but a config dict is returned as it
    is."""
    if workers < 1 or not isinstance(dataloader_cfg, dict):
        return dataloader_cfg
    configured = dataloader_cfg.get('num_workers', 0)
    if configured <= workers:
        return dataloader_cfg
    return {**dataloader_cfg, 'num_workers': workers}
