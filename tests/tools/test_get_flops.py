"""tools/analysis/get_flops.py: the command line over
selfy_mmaction.analysis.complexity (the counting is tested in
tests/analysis/test_complexity.py)."""

import os.path as osp
import subprocess
import sys

from mmengine.config import Config

from selfy_mmaction.analysis.complexity import complexity, measure_all

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'analysis', 'get_flops.py')
SELFY_8F = osp.join(
    REPO,
    'configs',
    'selfy',
    'selfy_imagenet-pretrained-r50_8xb8-1x1x8-50e_sthv1-rgb.py',
)


def test_cli_and_all_table(tmp_path, capsys):
    """`--all` measures each model once, marks test-protocol variants as the
    same row, skips _base_; the single-config CLI honours --shape and
    --cfg-options."""
    root = tmp_path / 'configs'
    (root / 'selfy').mkdir(parents=True)
    (root / '_base_').mkdir()
    (root / '_base_' / 'ignored.py').write_text('x = 1\n')
    train = root / 'selfy' / 'selfy_tiny_r18_sthv1.py'
    train.write_text(
        f"_base_ = ['{SELFY_8F}']\n"
        'model = dict(backbone=dict(depth=18), '
        'cls_head=dict(in_channels=512))\n'
        'val_dataloader = dict(dataset=dict(pipeline=[\n'
        "    dict(type='SampleFrames', clip_len=1, num_clips=8),\n"
        "    dict(type='CenterCrop', crop_size=64)]))\n"
    )
    (root / 'selfy' / 'selfy_tiny_r18_sthv1_test-2clip3crop.py').write_text(
        "_base_ = ['./selfy_tiny_r18_sthv1.py']\n"
        'test_dataloader = dict(dataset=dict(pipeline=[]))\n'
    )
    rows = measure_all(str(root))
    table = capsys.readouterr().out
    assert len(rows) == 1
    assert rows[0]['input_shape'] == (1, 8, 3, 64, 64)
    assert 'same model and clip as selfy/selfy_tiny_r18_sthv1.py' in table
    # no paper number for an R18 (the papers' are ResNet-50s)
    assert table.splitlines()[2].endswith('| - | - | - |')
    assert 'ignored' not in table

    out = subprocess.run(
        [
            sys.executable,
            TOOL,
            str(train),
            '--shape',
            '8',
            '3',
            '32',
            '32',
            '--cfg-options',
            'model.cls_head.num_classes=10',
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
    ).stdout
    assert 'input:        (1, 8, 3, 32, 32)' in out
    res = complexity(Config.fromfile(str(train)), (1, 8, 3, 32, 32))
    assert (
        f'params:       {(res["params"] - 164 * 513) / 1e6:.3f} M '
        '(backbone + head)'
    ) in out
    assert 'mmengine:     ' in out and '(backbone + head, ' in out
