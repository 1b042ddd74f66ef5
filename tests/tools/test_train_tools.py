"""End to end through tools/train.py and tools/test.py on generated videos:
train, test the saved checkpoint, resume."""

import os.path as osp
import re
import subprocess
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'selfy_tsm_r18_motion.py')


def _tiny_config(tmp_path, base=CONFIG):
    """A config inheriting ``base`` on 16 training / 8 test clips (32 px,
    generated into ``tmp_path/data`` on first use)."""
    data = tmp_path / 'data'
    cfg = tmp_path / 'tiny.py'
    cfg.write_text(f"""
_base_ = [{base!r}]
motion_spec = dict(seed=1, num_train_per_class=2, num_val_per_class=1,
                   num_frames=8, size=32)
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(ann_file='{data}/motion_train_list_videos.txt',
                 data_prefix=dict(video='{data}/videos'), spec=motion_spec))
val_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(ann_file='{data}/motion_val_list_videos.txt',
                 data_prefix=dict(video='{data}/videos'), spec=motion_spec))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=2, val_interval=1)
param_scheduler = [dict(type='CosineAnnealingLR', T_max=2, by_epoch=True)]
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=3),
                     logger=dict(interval=1))
""")
    return str(cfg)


def _tool(name, *args):
    proc = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', name), *args],
        capture_output=True,
        text=True,
        timeout=400,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def test_train_test_resume(tmp_path):
    cfg = _tiny_config(tmp_path)
    work = str(tmp_path / 'work')
    out = _tool(
        'train.py',
        cfg,
        '--work-dir',
        work,
        '--cfg-options',
        'train_cfg.max_epochs=1',
    )
    assert 'Epoch(val) [1]' in out
    assert osp.exists(osp.join(work, 'epoch_1.pth'))

    out = _tool(
        'test.py',
        cfg,
        osp.join(work, 'epoch_1.pth'),
        '--work-dir',
        str(tmp_path / 'test'),
    )
    assert re.search(r"'acc/top1': (np\.float64\()?[0-9.]+", out)

    out = _tool('train.py', cfg, '--work-dir', work, '--resume')
    assert 'resumed epoch: 1' in out
    assert 'Epoch(train) [2]' in out and 'Epoch(train) [1]' not in out
    assert osp.exists(osp.join(work, 'epoch_2.pth'))


def test_mmaction_own_tools_run_our_config(tmp_path):
    """MMAction2's stock tools/train.py and tools/test.py (shipped in the
    wheel under mmaction/.mim/tools) run our config unchanged: its
    custom_imports load the plugin."""
    import mmaction

    tools = osp.join(osp.dirname(mmaction.__file__), '.mim', 'tools')
    cfg = _tiny_config(tmp_path)
    work = str(tmp_path / 'stock')

    def stock(name, *args):
        proc = subprocess.run(
            [sys.executable, osp.join(tools, name), *args],
            capture_output=True,
            text=True,
            timeout=400,
            cwd=str(tmp_path),
        )
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        return proc.stdout + proc.stderr

    out = stock(
        'train.py',
        cfg,
        '--work-dir',
        work,
        '--cfg-options',
        'train_cfg.max_epochs=1',
    )
    assert 'Epoch(val) [1]' in out
    out = stock(
        'test.py',
        cfg,
        osp.join(work, 'epoch_1.pth'),
        '--work-dir',
        str(tmp_path / 'stock_test'),
    )
    assert re.search(r'acc/top1: [0-9.]+', out), out[-2000:]
