"""A training run killed with SIGKILL in the middle of epoch 2 and resumed
with ``--resume`` ends bitwise equal to an uninterrupted run (CPU, same seed,
2 persistent data loader workers, random crops, dropout, and one unreadable
clip skipped with ``skip_corrupt=True``)."""

import glob
import os
import os.path as osp
import re
import signal
import subprocess
import sys
import threading

import torch
from tiny_run import REPO, tool_env, write_tiny_config

TRAIN = [sys.executable, osp.join(REPO, 'tools', 'train.py')]
VAL_TOP1 = re.compile(r'Epoch\(val\) \[3\]\[\d+/\d+\]\s+acc/top1: ([0-9.]+)')


def _train(cfg, work, *args):
    proc = subprocess.run(
        [*TRAIN, cfg, '--work-dir', work, *args],
        capture_output=True,
        text=True,
        timeout=500,
        env=tool_env(),
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def _start_and_kill_in_epoch_2(cfg, work):
    """Start a run; SIGKILL it (and its workers) once epoch 2 has trained
    two iterations, i.e. after epoch_1.pth was saved."""
    proc = subprocess.Popen(
        [*TRAIN, cfg, '--work-dir', work],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=tool_env(),
        cwd=REPO,
        start_new_session=True,
    )
    watchdog = threading.Timer(500, os.killpg, (proc.pid, signal.SIGKILL))
    watchdog.start()
    log = []
    for line in proc.stdout:
        log.append(line)
        if re.search(r'Epoch\(train\)\s*\[2\]\[\s*2/8\]', line):
            os.killpg(proc.pid, signal.SIGKILL)
            break
    proc.wait()
    watchdog.cancel()
    return proc.returncode, ''.join(log)


def _load(path):
    return torch.load(path)  # weights-only with the package's allowlist


def test_sigkill_in_epoch_2_then_resume_is_bitwise_exact(tmp_path):
    cfg = write_tiny_config(
        tmp_path, train_dataset_options='skip_corrupt=True'
    )
    broken = tmp_path / 'data' / 'videos' / 'train' / 'train_00003.mp4'
    broken.write_bytes(b'not a video')
    full, killed = str(tmp_path / 'full'), str(tmp_path / 'killed')
    # the two first runs are independent: run them side by side
    result = {}
    thread = threading.Thread(
        target=lambda: result.update(log=_train(cfg, full))
    )
    thread.start()
    returncode, log = _start_and_kill_in_epoch_2(cfg, killed)
    thread.join()
    assert returncode == -signal.SIGKILL, log[-3000:]
    assert osp.exists(osp.join(killed, 'epoch_1.pth'))
    assert not osp.exists(osp.join(killed, 'epoch_2.pth')), (
        'the run was not killed inside epoch 2'
    )

    resumed_log = _train(cfg, killed, '--resume')
    assert 'resumed epoch: 1, iter: 8' in resumed_log

    a = _load(osp.join(full, 'epoch_3.pth'))
    b = _load(osp.join(killed, 'epoch_3.pth'))
    assert a['state_dict'].keys() == b['state_dict'].keys()
    differ = [
        k
        for k in a['state_dict']
        if not torch.equal(a['state_dict'][k], b['state_dict'][k])
    ]
    assert not differ, f'{len(differ)} tensors differ, e.g. {differ[:3]}'
    for key, state in a['optimizer']['state'].items():  # AdamW: step, moments
        assert state.keys() == b['optimizer']['state'][key].keys()
        for name, value in state.items():
            assert torch.equal(
                torch.as_tensor(value),
                torch.as_tensor(b['optimizer']['state'][key][name]),
            ), name
    top1 = VAL_TOP1.findall(result['log'])
    assert top1 and top1 == VAL_TOP1.findall(resumed_log)
    for log in (result['log'], resumed_log):
        assert f'1 corrupt training samples skipped so far: {broken}' in log
    assert not glob.glob(osp.join(killed, '.*.tmp'))  # no temp file left
