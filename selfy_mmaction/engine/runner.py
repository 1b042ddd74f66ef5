"""MMEngine's Runner, able to run distributed on machines without CUDA.

Select it in a config (``configs/_base_/default_runtime.py`` does)::

    runner_type = 'mmaction.CPUDistributedRunner'

MMAction2's ``tools/train.py``/``test.py`` and ours build the runner from
``runner_type`` when a config has one.
"""

import os
from typing import Optional

import torch
import torch.distributed as torch_dist
from mmaction.registry import RUNNERS
from mmengine.dist import is_distributed
from mmengine.model import is_model_wrapper
from mmengine.registry import MODEL_WRAPPERS
from mmengine.runner import Runner

from .cpu_budget import (
    CPUBudget,
    available_cores,
    busy_cores,
    cap_workers,
    local_processes,
    resolve_cpu_budget,
)


def _set_env_from(variables: dict) -> None:
    """Copy launcher variables into torch.distributed's ``env://`` names."""
    for name, value in variables.items():
        os.environ[name] = str(value)


def init_cpu_dist(
    launcher: str, backend: str = 'gloo', port=None, **kwargs
) -> None:
    """Form the process group of ``launcher`` on a machine without CUDA.

    MMEngine's ``init_dist`` calls ``torch.cuda.set_device`` for every
    launcher (and the slurm launcher divides by the GPU count), which fails
    without CUDA. This reads the same environment variables as MMEngine and
    joins the group over gloo (``nccl``, the configs' usual backend, needs
    CUDA and is taken as gloo).

    Args:
        launcher (str): ``'pytorch'`` (torchrun: RANK, WORLD_SIZE,
            MASTER_ADDR/PORT), ``'slurm'`` (SLURM_PROCID, SLURM_NTASKS,
            SLURM_LOCALID, SLURM_NODELIST) or ``'mpi'``
            (OMPI_COMM_WORLD_RANK/SIZE/LOCAL_RANK, MASTER_ADDR).
        backend (str): ``'gloo'`` (``'nccl'`` is taken as gloo).
        port (int, optional): Master port for slurm (else MASTER_PORT, else
            29500), as MMEngine.
        **kwargs: Passed to ``torch.distributed.init_process_group``
            (``timeout`` in seconds, as in MMEngine's ``dist_cfg``).
    """
    if 'timeout' in kwargs and not hasattr(kwargs['timeout'], 'seconds'):
        import datetime

        kwargs['timeout'] = datetime.timedelta(seconds=kwargs['timeout'])
    backend = 'gloo' if backend == 'nccl' else backend
    env = os.environ
    if launcher == 'slurm':
        if 'MASTER_ADDR' not in env:
            import subprocess

            env['MASTER_ADDR'] = subprocess.getoutput(
                f'scontrol show hostname {env["SLURM_NODELIST"]} | head -n1'
            )
        _set_env_from(
            dict(
                MASTER_PORT=port or env.get('MASTER_PORT', 29500),
                WORLD_SIZE=env['SLURM_NTASKS'],
                RANK=env['SLURM_PROCID'],
                LOCAL_RANK=env.get('SLURM_LOCALID', 0),
            )
        )
    elif launcher == 'mpi':
        if 'MASTER_ADDR' not in env:
            raise KeyError('The environment variable MASTER_ADDR is not set')
        _set_env_from(
            dict(
                MASTER_PORT=env.get('MASTER_PORT', 29500),
                WORLD_SIZE=env['OMPI_COMM_WORLD_SIZE'],
                RANK=env['OMPI_COMM_WORLD_RANK'],
                LOCAL_RANK=env['OMPI_COMM_WORLD_LOCAL_RANK'],
            )
        )
    elif launcher != 'pytorch':
        raise ValueError(f'Invalid launcher type: {launcher}')
    torch_dist.init_process_group(backend=backend, **kwargs)


@RUNNERS.register_module()
class CPUDistributedRunner(Runner):
    """MMEngine's ``Runner`` that also runs distributed without CUDA.

    Where CUDA is available it is MMEngine's ``Runner`` unchanged. Without
    CUDA, with a launcher (``tools/dist_train.sh``, torchrun, slurm, mpi):

    - the process group is formed over gloo (:func:`init_cpu_dist`) instead
      of MMEngine's ``init_dist``, which needs CUDA;
    - the model is wrapped in DDP without ``device_ids`` (DDP refuses device
      ids for CPU modules, which MMEngine always passes); a
      ``model_wrapper_cfg`` is built the same way.

    Without CUDA it also sizes intra-op threads and data workers from the
    machine's cores (``env_cfg.cpu_budget``, see
    :mod:`selfy_mmaction.engine.cpu_budget`), so that they do not compete for
    the same cores, and logs the budget. An ``OMP_NUM_THREADS`` set before
    the run is kept as the thread count.
    """

    cpu_budget: Optional[CPUBudget] = None
    _busy_cores = 0.0

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.cpu_budget is not None:
            budget = self.cpu_budget
            self.logger.info(
                f'CPU budget (env_cfg.cpu_budget): {budget.cores} cores, '
                f'{budget.processes} process(es) on this machine, '
                f'{self._busy_cores:.1f} busy with other programs; '
                f'{torch.get_num_threads()} intra-op threads, data workers '
                f'per loader at most {budget.workers or "as configured"}'
            )

    def setup_env(self, env_cfg: dict) -> None:
        if (
            self.distributed
            and not is_distributed()
            and not torch.cuda.is_available()
        ):
            init_cpu_dist(self.launcher, **env_cfg.get('dist_cfg', {}))
        # MMEngine may set OMP_NUM_THREADS for distributed runs: read the
        # user's value first
        user_threads = os.environ.get('OMP_NUM_THREADS')
        super().setup_env(env_cfg)
        budget_cfg = env_cfg.get('cpu_budget')
        if budget_cfg is not None and not torch.cuda.is_available():
            budget_cfg = dict(budget_cfg)
            if user_threads and budget_cfg.get('threads') == 'auto':
                budget_cfg['threads'] = None  # the user's OMP_NUM_THREADS
            self._apply_cpu_budget(budget_cfg)

    def _apply_cpu_budget(self, budget_cfg: dict) -> None:
        unknown = set(budget_cfg) - {'threads', 'workers', 'cores'}
        if unknown:
            raise KeyError(
                f'env_cfg.cpu_budget: unknown keys {sorted(unknown)} '
                "(expected 'threads', 'workers', 'cores')"
            )
        cores = budget_cfg.pop('cores', None) or available_cores()
        busy = busy_cores() if budget_cfg.get('threads') == 'auto' else 0.0
        budget = resolve_cpu_budget(
            cores, local_processes(self.distributed), busy=busy, **budget_cfg
        )
        self._busy_cores = busy
        if budget.threads:
            torch.set_num_threads(budget.threads)
        self._train_dataloader = cap_workers(
            self._train_dataloader, budget.workers
        )
        self._val_dataloader = cap_workers(
            self._val_dataloader, budget.workers
        )
        self._test_dataloader = cap_workers(
            self._test_dataloader, budget.workers
        )
        self.cpu_budget = budget

    def wrap_model(self, model_wrapper_cfg, model):
        if (
            not self.distributed
            or torch.cuda.is_available()
            or is_model_wrapper(model)
        ):
            return super().wrap_model(model_wrapper_cfg, model)
        if self.cfg.get('sync_bn', None) is not None:
            raise ValueError('sync_bn needs CUDA; this machine has none')
        if model_wrapper_cfg is None:
            model_wrapper_cfg = dict(
                type='MMDistributedDataParallel',
                broadcast_buffers=False,
                find_unused_parameters=self.cfg.get(
                    'find_unused_parameters', False
                ),
            )
        model_wrapper_cfg = dict(model_wrapper_cfg)
        model_wrapper_cfg.setdefault('type', 'MMDistributedDataParallel')
        return MODEL_WRAPPERS.build(
            model_wrapper_cfg, default_args=dict(module=model)
        )


def build_runner(cfg):
    """The runner a config asks for, as MMAction2's tools build it: the
    registered ``runner_type`` if the config names one, else MMEngine's
    ``Runner``."""
    if 'runner_type' in cfg:
        from mmengine.registry import RUNNERS as ROOT_RUNNERS

        return ROOT_RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)
