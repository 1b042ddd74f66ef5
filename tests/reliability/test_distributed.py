"""``tools/dist_train.sh CONFIG 2`` on one CPU machine (gloo): the 2 ranks
share the data and average gradients, so with the same total batch it
matches a 1-process run up to float rounding (when no layer depends on the
per-process batch: BN statistics frozen, no dropout)."""
import os.path as osp
import socket
import subprocess
import sys
import threading

import pytest
import torch
from tiny_run import REPO, tool_env, write_tiny_config

# layers that depend on the per-process batch would differ by design
SAME_MATH = ['model.cls_head.dropout_ratio=0', 'model.backbone.norm_eval=True']


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _run(cmd, env):
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=500,
                          env=env, cwd=REPO)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return proc.stdout + proc.stderr


def test_two_cpu_processes_match_one_with_the_same_total_batch(tmp_path):
    cfg = write_tiny_config(tmp_path, max_epochs=1)
    one, two = str(tmp_path / 'one'), str(tmp_path / 'two')
    env = dict(tool_env(), PORT=str(_free_port()))
    logs = {}
    dist = threading.Thread(target=lambda: logs.update(two=_run(
        ['bash', osp.join(REPO, 'tools', 'dist_train.sh'), cfg, '2',
         '--work-dir', two, '--cfg-options', *SAME_MATH,
         'train_dataloader.batch_size=2'], env)))
    dist.start()
    logs['one'] = _run([
        sys.executable, osp.join(REPO, 'tools', 'train.py'), cfg,
        '--work-dir', one, '--cfg-options', *SAME_MATH,
        'train_dataloader.batch_size=4'
    ], tool_env())
    dist.join()
    assert 'Distributed training: True' in logs['two']
    # 16 clips / (2 ranks x 2) = 4 iterations, as 16 / 4 in one process
    assert 'Epoch(train) [1][4/4]' in logs['two']
    assert 'Epoch(train) [1][4/4]' in logs['one']

    a = torch.load(osp.join(one, 'epoch_1.pth'))['state_dict']
    b = torch.load(osp.join(two, 'epoch_1.pth'))['state_dict']
    compared = 0
    for key, value in a.items():
        if not value.is_floating_point():
            assert torch.equal(value, b[key]), key
            continue
        scale = value.abs().max().clamp(min=1e-3)
        assert (value - b[key]).abs().max() <= 1e-4 * scale, key
        compared += 1
    assert compared > 50


_ALL_REDUCE = '''
import sys
import torch
import torch.distributed as dist
import selfy_mmaction  # noqa: F401  (the CPU repair)
from mmengine.dist import all_reduce, get_rank, get_world_size, init_dist
init_dist(sys.argv[1], backend='nccl')  # the configs' default backend
value = torch.ones(1) * (get_rank() + 1)
all_reduce(value)
print(get_rank(), get_world_size(), dist.get_backend(), float(value))
'''


@pytest.mark.parametrize('launcher', ['slurm', 'mpi'])
def test_slurm_and_mpi_launchers_on_cpu(launcher):
    """MMEngine's slurm/mpi launchers, fed the environment srun/mpirun set,
    form a gloo group of 2 on a machine without CUDA."""
    port = str(_free_port())
    procs = []
    for rank in range(2):
        env = dict(tool_env(), MASTER_ADDR='127.0.0.1', MASTER_PORT=port)
        if launcher == 'slurm':
            env.update(SLURM_PROCID=str(rank), SLURM_NTASKS='2',
                       SLURM_LOCALID=str(rank), SLURM_NODELIST='localhost')
        else:
            env.update(OMPI_COMM_WORLD_RANK=str(rank),
                       OMPI_COMM_WORLD_SIZE='2',
                       OMPI_COMM_WORLD_LOCAL_RANK=str(rank))
        procs.append(subprocess.Popen(
            [sys.executable, '-c', _ALL_REDUCE, launcher],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=env))
    outputs = [proc.communicate(timeout=300) for proc in procs]
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err[-3000:]
    assert sorted(out.split()[0] for out, _ in outputs) == ['0', '1']
    for out, _ in outputs:
        assert out.split()[1:] == ['2', 'gloo', '3.0']
