"""tools/benchmark_zoo.py: the --quick run end to end through the command
line (what CI runs); the recipe and aggregation are tested in
tests/benchmark/test_zoo.py."""

import json
import os.path as osp
import subprocess
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_quick_benchmark_writes_table_plot_and_json(tmp_path):
    work = tmp_path / 'bench'
    proc = subprocess.run(
        [
            sys.executable,
            osp.join(REPO, 'tools', 'benchmark_zoo.py'),
            '--quick',
            '--work-dir',
            str(work),
        ],
        capture_output=True,
        text=True,
        timeout=400,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    table = (work / 'benchmark.md').read_text()
    assert '| TSN |' in table and '| TSM |' in table
    png = (work / 'benchmark.png').read_bytes()
    assert png[:8] == b'\x89PNG\r\n\x1a\n' and len(png) > 1000
    payload = json.loads((work / 'benchmark.json').read_text())
    assert payload['runs'] and not any(
        r.get('failed') for r in payload['runs']
    )
    for run in payload['runs']:
        assert 0 <= run['top1'] <= 1 and run['train_clips_per_s'] > 0
        assert run['peak_rss_mb'] > 0 and run['latency_ms'] > 0
        # MotionPairMetric's numbers, consistent with top-1 (a right class
        # is in the right pair)
        assert run['top1'] <= run['pair_acc'] <= 1
        assert 0 <= run['direction_acc'] <= 1 and run['num_test'] > 0
    assert '[1/' in proc.stdout  # a summary line after each run
