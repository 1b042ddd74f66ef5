"""tools/visualize_stss.py: the command line loads the checkpoint and gives
the numbers of selfy_mmaction.visualization.stss on the loaded model (the
numbers themselves: tests/visualization/test_stss.py)."""

import importlib.util
import os.path as osp

import numpy as np
import pytest
import torch
from mmaction.apis import init_recognizer
from mmengine.config import Config
from PIL import Image

from selfy_mmaction.datasets.motion import (
    MotionDatasetSpec,
    render_clip,
    write_video,
)
from selfy_mmaction.visualization.stss import compute

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SELFY = osp.join(REPO, 'configs', 'selfy_tsm_r18_motion.py')
_spec = importlib.util.spec_from_file_location(
    'visualize_stss_cli', osp.join(REPO, 'tools', 'visualize_stss.py')
)
tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tool)


def test_cli_loads_the_checkpoint_and_writes_the_figure(tmp_path, capsys):
    spec = MotionDatasetSpec()
    clip = str(tmp_path / 'move_right.mp4')
    write_video(clip, render_clip(0, np.random.default_rng(3), spec), spec.fps)
    cfg = Config.fromfile(SELFY)
    model = init_recognizer(cfg, None, device='cpu')
    for p in model.parameters():  # weights the checkpoint must carry over
        p.data.normal_(0, 0.3)
    checkpoint = str(tmp_path / 'random.pth')
    torch.save(dict(state_dict=model.state_dict()), checkpoint)
    config = str(tmp_path / 'cfg.py')
    cfg.dump(config)
    out = str(tmp_path / 'stss.png')
    result = tool.main(
        [
            clip,
            config,
            checkpoint,
            '--out',
            out,
            '--points',
            '20,10',
            '47,0',
            '--frame',
            '2',
            '--temperature',
            '0.05',
        ]
    )
    expected = compute(
        model, clip, [(20, 10), (47, 0)], frame=2, temperature=0.05
    )
    torch.testing.assert_close(result['maps'], expected['maps'])
    torch.testing.assert_close(result['motion'], expected['motion'])
    assert result['cells'] == [(1, 2), (0, 5)]
    printed = capsys.readouterr().out
    assert 'cell (row 1, col 2) soft-argmax (dx, dy) in cells' in printed
    assert f'wrote {out}' in printed
    assert Image.open(out).mode == 'P'
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        tool.main([clip, config, str(tmp_path / 'nope.pth')])
