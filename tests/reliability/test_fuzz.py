"""Seeded random bad input into the recognizer and the SELFY block (shapes,
dtypes, NaN/inf, train/eval) and the data path (random, truncated and bit-flipped videos, odd clips, broken
or missing frames, random list lines): each case gives a correct result or a
clear Python exception, never a hang or a crash (each run in a subprocess
with faulthandler and a per-case timeout; see fuzz_cases.py for the
oracles)."""
import json
import os.path as osp
import subprocess
import sys

import pytest

HERE = osp.dirname(osp.abspath(__file__))
NUM_CASES = 40


def _fuzz(which, seed, workdir):
    proc = subprocess.run(
        [sys.executable, osp.join(HERE, 'fuzz_cases.py'), which, str(seed),
         str(NUM_CASES), str(workdir)],
        capture_output=True, text=True, errors='replace', timeout=400)
    events = [json.loads(line) for line in proc.stdout.splitlines()
              if line.startswith('{')]
    started = [e for e in events if 'start' in e]
    results = [e for e in events if 'outcome' in e]
    last = started[-1]['desc'] if started else 'before the first case'
    assert proc.returncode == 0 and len(results) == NUM_CASES, (
        f'{which} fuzz died (exit {proc.returncode}) in case {last!r}:\n'
        f'{proc.stderr[-3000:]}')
    return results


@pytest.mark.parametrize('which, seed', [('model', 0), ('selfy', 0),
                                         ('data', 0)])
def test_fuzz(which, seed, tmp_path):
    results = _fuzz(which, seed, tmp_path)
    problems = [f"{r['desc']}: {r['outcome']} {r['error']} -> {r['problem']}"
                for r in results if r['problem']]
    assert not problems, '\n'.join(problems)
    outcomes = {r['outcome'] for r in results}
    assert outcomes == {'ok', 'error'}  # the cases reach both sides


@pytest.mark.parametrize('body', [
    'import ctypes; ctypes.string_at(0)',  # segfault
    'import time; time.sleep(30)',  # hang
])
def test_the_harness_reports_crashes_and_hangs(body):
    code = (f'import sys, faulthandler; sys.path.insert(0, {HERE!r})\n'
            f'import fuzz_cases\nfuzz_cases.CASE_TIMEOUT = 2\n'
            f'faulthandler.enable()\n'
            f'fuzz_cases._run(0, "bad case", lambda: exec({body!r}))\n')
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True,
                          text=True, errors='replace', timeout=120)
    assert proc.returncode != 0
    assert '"start": 0' in proc.stdout and '"outcome"' not in proc.stdout
    assert ('Timeout' in proc.stderr or 'Fatal Python error' in proc.stderr)
    assert 'in _run' in proc.stderr  # the stack says where it stopped
