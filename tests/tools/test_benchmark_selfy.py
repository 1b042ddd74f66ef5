"""tools/analysis/benchmark_selfy.py: the --quick smoke run (what CI runs)
and the CUDA request on a machine without CUDA."""

import os.path as osp
import sys

import pytest
import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools', 'analysis'))
import benchmark_selfy  # noqa: E402

RATIO_ROWS = (
    'STSS op fwd+bwd speed-up over unfold',
    'STSS op fwd+bwd peak / (output + input)',
    'SELFY block fwd+bwd / TSM-R18 backbone fwd+bwd (one clip)',
    'SELFYNet-TSM-R18 / TSM-R18 training step, batch 1',
    'SELFYNet-TSM-R18 / TSM-R18 inference, batch 1',
    'SELFYNet-TSM-R18 / TSM-R18 backbone fwd+bwd, batch 1',
    'SELFYNet-TSM-R18 / TSM-R18 backbone inference, batch 1',
)


def test_quick_run_prints_the_ratio_rows(tmp_path, capsys):
    threads = torch.get_num_threads()
    report = tmp_path / 'selfy.md'
    try:
        assert (
            benchmark_selfy.main(
                [
                    '--quick',
                    '--device',
                    'cpu',
                    '--threads',
                    '1',
                    '--out',
                    str(report),
                ]
            )
            == 0
        )
    finally:
        torch.set_num_threads(threads)
    printed = capsys.readouterr().out
    written = report.read_text()
    for row in RATIO_ROWS:
        lines = [
            line
            for line in printed.splitlines()
            if line.startswith(f'| {row} |')
        ]
        assert len(lines) == 1, row
        assert float(lines[0].split('|')[2]) > 0  # a measured ratio
        assert lines[0] in written
    assert 'load average (1, 5, 15 min) at start' in written


@pytest.mark.skipif(torch.cuda.is_available(), reason='a CUDA device is here')
def test_cuda_without_a_device_says_it_was_not_run(capsys):
    assert benchmark_selfy.main(['--device', 'cuda']) == 0
    assert 'CUDA: not run' in capsys.readouterr().out
