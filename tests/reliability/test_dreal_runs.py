"""DREAL through the command-line tools on tiny generated motion data:
train (critic and reward in the log), test, export to the plain recognizer
with identical predictions, and ``--resume`` after a SIGKILL equal to an
uninterrupted run (weights, critic, both optimisers)."""

import os
import os.path as osp
import pickle
import re
import signal
import subprocess
import sys
import threading

import torch
from mmengine.config import Config
from tiny_run import REPO, tool_env, write_tiny_config

DREAL_CONFIG = osp.join(
    REPO, 'configs', 'dreal', 'dreal_eca-tsm-r18_1x1x8-4e_motion-rgb.py'
)
PLAIN_CONFIG = osp.join(
    REPO, 'configs', 'eca', 'eca_r18_1x1x8-4e_motion-rgb.py'
)
TOOLS = osp.join(REPO, 'tools')


def write_dreal_configs(tmp_path, max_epochs=2, **kwargs):
    """The DREAL motion config and its plain ECA base on the tiny data
    (``write_tiny_config``'s loaders and schedule); the critic warms up for
    2 iterations and 2 of the 8 modules are ablated per step."""
    tiny = Config.fromfile(
        write_tiny_config(tmp_path, max_epochs=max_epochs, **kwargs)
    )
    data = ''.join(
        f'{key} = {tiny[key].to_dict()!r}\n'
        for key in (
            'train_dataloader',
            'val_dataloader',
            'test_dataloader',
            'train_cfg',
            'default_hooks',
        )
    )
    cosine = [dict(type='CosineAnnealingLR', T_max=max_epochs, by_epoch=True)]
    paths = {}
    for name, base, extra in (
        ('plain', PLAIN_CONFIG, f'param_scheduler = {cosine!r}\n'),
        (
            'dreal',
            DREAL_CONFIG,
            'model = dict(critic_warmup_iters=2, num_ablated=2)\n'
            f'param_scheduler = dict(actor={cosine!r})\n',
        ),
    ):
        paths[name] = str(tmp_path / f'tiny_{name}.py')
        with open(paths[name], 'w') as f:
            f.write(f'_base_ = [{base!r}]\n{data}{extra}')
    return paths


def _run(*args, env=None):
    proc = subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=500,
        env=env or tool_env(),
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def _train(cfg, work, *args):
    return _run(osp.join(TOOLS, 'train.py'), cfg, '--work-dir', work, *args)


def test_train_test_and_export_to_the_plain_recognizer(tmp_path):
    cfgs = write_dreal_configs(tmp_path, max_epochs=1)
    work = str(tmp_path / 'work')
    log = _train(cfgs['dreal'], work)
    for key in (
        'loss_critic',
        'dreal_value',
        'dreal_reward',
        'actor.lr',
        'critic.lr',
    ):
        assert re.search(
            rf'Epoch\(train\).*\b{re.escape(key)}: -?[0-9.]+', log
        ), key
    ckpt = osp.join(work, 'epoch_1.pth')
    checkpoint = torch.load(ckpt)
    assert any(k.startswith('critic.') for k in checkpoint['state_dict'])
    assert set(checkpoint['optimizer']) == {'actor', 'critic'}

    exported = str(tmp_path / 'plain.pth')
    _run(osp.join(TOOLS, 'dreal_export.py'), ckpt, exported)
    weights = torch.load(exported)['state_dict']
    assert not [k for k in weights if k.startswith('critic.')]
    dumps = {}
    for name, cfg, path in (
        ('dreal', cfgs['dreal'], ckpt),
        ('plain', cfgs['plain'], exported),
    ):
        dumps[name] = str(tmp_path / f'{name}.pkl')
        _run(
            osp.join(TOOLS, 'test.py'),
            cfg,
            path,
            '--work-dir',
            str(tmp_path / f'test_{name}'),
            '--dump',
            dumps[name],
        )
    with open(dumps['dreal'], 'rb') as f:
        ours = pickle.load(f)
    with open(dumps['plain'], 'rb') as f:
        theirs = pickle.load(f)
    assert len(ours) == len(theirs) == 8
    for a, b in zip(ours, theirs):
        assert torch.equal(a['pred_score'], b['pred_score'])


def _start_and_kill_in_epoch_2(cfg, work):
    """Start a run; SIGKILL it once epoch 2 has trained two iterations."""
    proc = subprocess.Popen(
        [sys.executable, osp.join(TOOLS, 'train.py'), cfg, '--work-dir', work],
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


def _assert_equal_states(a, b, where):
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            _assert_equal_states(a[key], b[key], f'{where}.{key}')
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_equal_states(x, y, f'{where}[{i}]')
    elif isinstance(a, torch.Tensor):
        assert torch.equal(a, b), where
    else:
        assert a == b, where


def test_sigkill_then_resume_equals_an_uninterrupted_run(tmp_path):
    """3 epochs of 8 steps, killed in epoch 2 and resumed from epoch_1.pth:
    the same weights, critic, both optimiser states and logged rewards."""
    cfg = write_dreal_configs(tmp_path, max_epochs=3)['dreal']
    full, killed = str(tmp_path / 'full'), str(tmp_path / 'killed')
    result = {}
    thread = threading.Thread(
        target=lambda: result.update(log=_train(cfg, full))
    )
    thread.start()
    returncode, log = _start_and_kill_in_epoch_2(cfg, killed)
    thread.join()
    assert returncode == -signal.SIGKILL, log[-3000:]
    assert osp.exists(osp.join(killed, 'epoch_1.pth'))
    assert not osp.exists(osp.join(killed, 'epoch_2.pth'))

    resumed_log = _train(cfg, killed, '--resume')
    assert 'resumed epoch: 1, iter: 8' in resumed_log
    a = torch.load(osp.join(full, 'epoch_3.pth'))
    b = torch.load(osp.join(killed, 'epoch_3.pth'))
    assert any(k.startswith('critic.') for k in a['state_dict'])
    _assert_equal_states(a['state_dict'], b['state_dict'], 'state_dict')
    _assert_equal_states(a['optimizer'], b['optimizer'], 'optimizer')
    rewards = re.compile(
        r'Epoch\(train\) \[3\]\[\s*\d+/8\].*dreal_reward: '
        r'(-?[0-9.]+)'
    )
    assert rewards.findall(result['log'])
    assert rewards.findall(result['log']) == rewards.findall(resumed_log)


def test_two_cpu_processes_match_one_with_the_same_total_batch(tmp_path):
    """As test_distributed.py, for DREAL (MMSeparateDistributedDataParallel,
    selected by the config, calls DREAL's train_step): 2 processes x 2 clips
    vs 1 process x 4 clips, 4 steps, the value term on from the first step,
    2 modules ablated per step; recognizer and critic agree up to the
    rounding of a 2-thread 1-process run. SGD for both optimisers, as
    test_distributed.py explains (Adam turns the rounding noise of
    near-zero gradients into lr-sized steps: with Adam the 2-process run
    differed by ~1e-2 relative after 4 steps, also with value_weight=0)."""
    from test_distributed import _free_port, _max_relative_difference

    same_math = [
        'model.cls_head.dropout_ratio=0',
        'model.backbone.norm_eval=True',
        'model.critic_warmup_iters=0',
        'optim_wrapper.actor.optimizer.type=SGD',
        'optim_wrapper.actor.optimizer.lr=0.01',
        'optim_wrapper.critic.optimizer.type=SGD',
        'optim_wrapper.critic.optimizer.lr=0.01',
    ]
    cfg = write_dreal_configs(tmp_path, max_epochs=1)['dreal']
    runs = {name: str(tmp_path / name) for name in ('one', 'two', 'ref')}
    train = [sys.executable, osp.join(TOOLS, 'train.py'), cfg]
    commands = dict(
        one=(
            [
                *train,
                '--work-dir',
                runs['one'],
                '--cfg-options',
                *same_math,
                'train_dataloader.batch_size=4',
            ],
            tool_env(),
        ),
        ref=(
            [
                *train,
                '--work-dir',
                runs['ref'],
                '--cfg-options',
                *same_math,
                'train_dataloader.batch_size=4',
            ],
            dict(tool_env(), OMP_NUM_THREADS='2'),
        ),
        two=(
            [
                'bash',
                osp.join(TOOLS, 'dist_train.sh'),
                cfg,
                '2',
                '--work-dir',
                runs['two'],
                '--cfg-options',
                *same_math,
                'train_dataloader.batch_size=2',
            ],
            dict(tool_env(), PORT=str(_free_port())),
        ),
    )
    logs = {}

    def run(name, cmd, env):
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=500, env=env, cwd=REPO
        )
        logs[name] = (proc.returncode, proc.stdout + proc.stderr)

    threads = [
        threading.Thread(target=run, args=(name, *command))
        for name, command in commands.items()
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for name, (returncode, log) in logs.items():
        assert returncode == 0, f'{name}: {log[-4000:]}'
    assert 'Distributed training: True' in logs['two'][1]
    assert 'Epoch(train) [1][4/4]' in logs['two'][1]
    assert 'Epoch(train) [1][4/4]' in logs['one'][1]
    assert re.search(
        r'Epoch\(train\) \[1\]\[4/4\].*loss: ([0-9.]+).*'
        r'loss_cls: (?!\1)',
        logs['one'][1],
    ), 'no value term'
    ckpt = {name: osp.join(path, 'epoch_1.pth') for name, path in runs.items()}
    assert any(
        k.startswith('critic.') for k in torch.load(ckpt['two'])['state_dict']
    )
    rounding = _max_relative_difference(ckpt['one'], ckpt['ref'])
    two = _max_relative_difference(ckpt['one'], ckpt['two'])
    assert two <= 10 * rounding + 1e-5, (two, rounding)
    assert two < 1e-2
