"""tools/motion_study.py --quick end to end (what CI runs): a tiny suite,
one epoch, SELFY-TSM trained, tested clean and under one corruption, the
report written; a second invocation reuses the finished run."""

import json
import os.path as osp
import subprocess
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _motion_study(*args):
    """Run tools/motion_study.py with ``args``."""
    tool = osp.join(REPO, 'tools', 'motion_study.py')
    return subprocess.run(
        [sys.executable, tool, *args],
        capture_output=True,
        text=True,
        timeout=400,
        cwd=REPO,
    )


def _study(work):
    return _motion_study(
        '--quick', '--variants', 'SELFY-TSM', '--work-dir', str(work)
    )


def test_quick_study_trains_tests_corrupts_and_resumes(tmp_path):
    work = tmp_path / 'study'
    proc = _study(work)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    payload = json.loads((work / 'study.json').read_text())
    (run,) = payload['runs']
    assert run['variant'] == 'SELFY-TSM' and not run.get('failed')
    assert 0 <= run['metrics']['acc/top1'] <= 1
    assert 'suite/speed0_top1' in run['metrics']
    assert set(run['corrupted']) == {'frame_drop:3'}
    assert '| SELFY-TSM | 1 |' in (work / 'study.md').read_text()
    assert (work / 'study_speed.png').read_bytes()[:4] == b'\x89PNG'
    again = _study(work)
    assert again.returncode == 0, again.stderr[-3000:]
    assert 'finished before: reused' in again.stdout


def test_report_only_names_the_missing_study(tmp_path):
    proc = _motion_study('--report-only', '--work-dir', str(tmp_path))
    assert proc.returncode == 1
    assert f'no {tmp_path / "study.json"}' in proc.stderr
    assert 'Traceback' not in proc.stderr
