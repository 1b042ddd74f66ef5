"""The re-ID configs build, and the generated-set config trains and tests
end to end through MMEngine's Runner (tiny spec, one epoch)."""

import glob
import os.path as osp

import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

import selfy_mmaction  # noqa: F401

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs', 'mstat', '*-reid.py')))
TINY_SPEC = dict(
    seed=1,
    num_train_ids=6,
    num_test_ids=4,
    num_cameras=3,
    cameras_per_id=2,
    tracklets_per_camera=2,
)


def test_configs_found():
    names = [osp.basename(c) for c in CONFIGS]
    assert 'vit-plain-d64-3l_8xb4-30e_tracklets-reid.py' in names
    assert 'mstat-d64-3l_8xb4-30e_tracklets-reid.py' in names
    assert 'mstat-vit-b16_8xb4-120e_mars-reid.py' in names


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_builds(path):
    init_default_scope('mmaction')
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmaction'
    assert cfg.train_dataloader.batch_size == (
        cfg.train_dataloader.sampler.num_identities
        * cfg.train_dataloader.sampler.num_instances
    )
    assert cfg.val_evaluator.type == 'ReIDMetric'
    model = MODELS.build(cfg.model)
    assert model.cls_head.num_classes == (625 if 'mars' in path else 48)
    if 'tracklets' in path:
        model.init_weights()
        model.eval()
        with torch.no_grad():
            out = model(
                torch.randn(2, 1, 3, 8, 48, 48),
                [ActionDataSample() for _ in range(2)],
                mode='predict',
            )
        assert out[0].embedding.shape == (model.cls_head.in_channels,)


@pytest.mark.parametrize(
    'name',
    [
        'vit-plain-d64-3l_8xb4-30e_tracklets-reid.py',
        'mstat-d64-3l_8xb4-30e_tracklets-reid.py',
    ],
)
def test_train_and_test_on_tiny_generated_set(tmp_path, name):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'mstat', name))
    data = str(tmp_path / 'data')
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dl = cfg[loader]
        dl.num_workers = 0
        dl.persistent_workers = False
        split = 'train' if loader == 'train_dataloader' else 'test'
        dl.dataset.ann_file = f'{data}/tracklets_{split}.txt'
        dl.dataset.data_prefix = dict(video=f'{data}/videos')
        dl.dataset.spec = TINY_SPEC
    cfg.train_dataloader.sampler.num_identities = 3
    cfg.train_dataloader.sampler.num_instances = 2
    cfg.train_dataloader.batch_size = 6
    cfg.model.cls_head.num_classes = 6
    cfg.train_cfg.max_epochs = 1
    cfg.train_cfg.val_interval = 1
    cfg.work_dir = str(tmp_path / 'work')
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.test()
    assert set(metrics) >= {
        'reid/mAP',
        'reid/rank1',
        'reid/rank5',
        'reid/rank10',
        'reid/rank20',
    }
    assert 0 < metrics['reid/mAP'] <= 100
    assert metrics['reid/num_queries'] == 4 * 2  # identities x cameras
