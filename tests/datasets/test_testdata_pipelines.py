"""The real videos of MMAction2's test data decode through our pipelines."""

import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.mark.parametrize('video', ['test.mp4', 'test.avi', 'demo.mp4'])
@pytest.mark.parametrize('split', ['train', 'val'])
def test_motion_pipelines_decode_real_videos(testdata_dir, video, split):
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', '_base_', 'datasets', 'motion_tiny.py')
    )
    init_default_scope('mmaction')
    pipeline = Compose(cfg[f'{split}_pipeline'])
    out = pipeline(
        dict(
            filename=osp.join(testdata_dir, video),
            label=0,
            start_index=0,
            modality='RGB',
        )
    )
    assert tuple(out['inputs'].shape) == (cfg.num_segments, 3, 48, 48)
