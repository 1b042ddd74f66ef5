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
SEED = 0


def _events(which, proc):
    out, err = proc.communicate(timeout=400)
    events = [
        json.loads(line) for line in out.splitlines() if line.startswith('{')
    ]
    started = [e for e in events if 'start' in e]
    results = [e for e in events if 'outcome' in e]
    last = started[-1]['desc'] if started else 'before the first case'
    assert proc.returncode == 0 and len(results) == NUM_CASES, (
        f'{which} fuzz died (exit {proc.returncode}) in case {last!r}:\n'
        f'{err[-3000:]}'
    )
    return results


def test_fuzz(tmp_path):
    """The three fuzzers run side by side, 40 seeded cases each."""
    procs = {
        which: subprocess.Popen(
            [
                sys.executable,
                osp.join(HERE, 'fuzz_cases.py'),
                which,
                str(SEED),
                str(NUM_CASES),
                str(tmp_path),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors='replace',
        )
        for which in ('model', 'selfy', 'data')
    }
    for which, proc in procs.items():
        results = _events(which, proc)
        problems = [
            f'{r["desc"]}: {r["outcome"]} {r["error"]} -> {r["problem"]}'
            for r in results
            if r['problem']
        ]
        assert not problems, f'{which}:\n' + '\n'.join(problems)
        # the cases reach both sides
        assert {r['outcome'] for r in results} == {'ok', 'error'}, which


@pytest.mark.parametrize(
    'body',
    [
        'import ctypes; ctypes.string_at(0)',  # segfault
        'import time; time.sleep(30)',  # hang
    ],
)
def test_the_harness_reports_crashes_and_hangs(body):
    code = (
        f'import sys, faulthandler; sys.path.insert(0, {HERE!r})\n'
        f'import fuzz_cases\nfuzz_cases.CASE_TIMEOUT = 2\n'
        f'faulthandler.enable()\n'
        f'fuzz_cases._run(0, "bad case", lambda: exec({body!r}))\n'
    )
    proc = subprocess.run(
        [sys.executable, '-c', code],
        capture_output=True,
        text=True,
        errors='replace',
        timeout=120,
    )
    assert proc.returncode != 0
    assert '"start": 0' in proc.stdout and '"outcome"' not in proc.stdout
    assert 'Timeout' in proc.stderr or 'Fatal Python error' in proc.stderr
    assert 'in _run' in proc.stderr  # the stack says where it stopped
