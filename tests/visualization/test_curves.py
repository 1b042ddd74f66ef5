"""selfy_mmaction.visualization.curves and tools/analysis/plot_curves.py:
epoch means from MMEngine's scalars.json, clear errors, one PNG."""

import json
import os
import os.path as osp
import subprocess
import sys

import pytest

from selfy_mmaction.visualization.curves import epoch_means, find_scalars

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _run_dir(root, losses, name='20260101_000000'):
    """A work dir whose scalars.json holds ``losses`` ({epoch: [...]}) and a
    validation entry, as MMEngine writes them."""
    vis = osp.join(root, name, 'vis_data')
    os.makedirs(vis)
    with open(osp.join(vis, 'scalars.json'), 'w') as f:
        it = 0
        for epoch, values in losses.items():
            for v in values:
                it += 1
                f.write(
                    json.dumps(
                        dict(loss=v, lr=0.1, epoch=epoch, iter=it, step=it)
                    )
                    + '\n'
                )
        f.write(json.dumps({'acc/top1': 0.5, 'step': len(losses)}) + '\n')
    return str(root)


def test_epoch_means_skip_validation_entries(tmp_path):
    run = _run_dir(tmp_path / 'a', {1: [2.0, 1.0], 2: [0.5, 0.25, 0.75]})
    assert epoch_means(find_scalars(run), 'loss') == {1: 1.5, 2: 0.5}


def test_missing_key_and_missing_log_are_named(tmp_path):
    run = _run_dir(tmp_path / 'a', {1: [1.0]})
    with pytest.raises(KeyError, match="'grad_norm'.*keys: .*'loss'"):
        epoch_means(find_scalars(run), 'grad_norm')
    with pytest.raises(
        FileNotFoundError, match='no vis_data/scalars.json under'
    ):
        find_scalars(str(tmp_path / 'empty'))


def test_find_scalars_takes_the_newest_run(tmp_path):
    old = _run_dir(tmp_path / 'w', {1: [9.0]}, name='20260101_000000')
    new = osp.join(_run_dir(tmp_path / 'w2', {1: [1.0]}), '20260101_000000')
    os.replace(new, osp.join(old, '20260102_000000'))
    assert epoch_means(find_scalars(old), 'loss') == {1: 1.0}


def _plot_curves(*args):
    """Run tools/analysis/plot_curves.py with ``args``."""
    tool = osp.join(REPO, 'tools', 'analysis', 'plot_curves.py')
    return subprocess.run(
        [sys.executable, tool, *args], capture_output=True, text=True, cwd=REPO
    )


def test_tool_draws_groups(tmp_path):
    a = _run_dir(tmp_path / 'a', {1: [2.0], 2: [1.0]})
    b = _run_dir(tmp_path / 'b', {1: [2.1], 2: [1.5]})
    out = str(tmp_path / 'curves.png')
    proc = _plot_curves(
        '--group', 'TCP', a, b, '--group', 'TSM', a,
        '--hline', '2.079', '--hline-label', 'chance (ln 8)', '--out', out,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    with open(out, 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    proc = _plot_curves('--group', 'TCP', '--out', out)
    assert proc.returncode == 2 and '--group TCP names no run' in proc.stderr
