"""selfy_mmaction.benchmark.zoo: the shared recipe, discovery and
aggregation (the --quick run end to end: tests/tools/test_benchmark_zoo.py)."""

import argparse
import copy
import os.path as osp

import pytest
from mmengine.config import Config

from selfy_mmaction.benchmark import zoo as bz

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

R2PLUS1D = osp.join(
    REPO, 'configs', 'r2plus1d', 'r2plus1d_r18_1x1x8-4e_motion-rgb.py'
)


def _recipe(tmp_path, **kw):
    args = argparse.Namespace(
        work_dir=str(tmp_path),
        epochs=3,
        size=40,
        batch_size=4,
        lr=None,
        seeds=None,
        cfg_options=None,
        spec=None,
        quick=False,
        schedule=osp.join(
            REPO, 'configs', '_base_', 'schedules', 'motion_adamw_4e.py'
        ),
    )
    recipe = bz.shared_recipe(args)
    recipe.update(kw)
    return recipe


def test_recipe_replaces_schedule_and_data_but_keeps_the_model(tmp_path):
    tsm = Config.fromfile(bz.LEADING[1])
    cfg = copy.deepcopy(tsm)
    cfg.optim_wrapper.optimizer.lr = 123.0
    cfg.train_dataloader.batch_size = 99
    recipe = _recipe(tmp_path)
    cfg = bz.apply_recipe(cfg, recipe, str(tmp_path / 'run'), seed=7)
    assert cfg.model == tsm.model
    assert cfg.optim_wrapper.optimizer.lr == recipe['lr'] != 123.0
    assert cfg.train_cfg.max_epochs == 3
    cosine = [
        s for s in cfg.param_scheduler if s['type'] == 'CosineAnnealingLR'
    ]
    assert all(s['end'] == 3 for s in cosine)
    assert cfg.train_dataloader.batch_size == 4
    assert cfg.randomness.seed == 7
    assert cfg.val_dataloader is None
    # pair and direction accuracy come from the test run's metrics
    assert [m['type'] for m in cfg.test_evaluator] == [
        'AccMetric',
        'MotionPairMetric',
    ]
    for loader in (cfg.train_dataloader, cfg.test_dataloader):
        resize = bz._find(loader.dataset.pipeline, 'Resize')
        assert resize['scale'] == (40, 40)
        assert loader.dataset.spec == recipe['spec']
        assert loader.dataset.ann_file.startswith(recipe['data_root'])


@pytest.mark.skipif(not osp.exists(R2PLUS1D), reason='no R(2+1)D config')
def test_recipe_keeps_the_models_own_sampler_and_input_format(tmp_path):
    own = Config.fromfile(R2PLUS1D)
    cfg = bz.apply_recipe(
        copy.deepcopy(own), _recipe(tmp_path), str(tmp_path), 0
    )
    for split in ('train', 'test'):
        pipeline = cfg[f'{split}_dataloader'].dataset.pipeline
        mine = own[f'{split}_dataloader'].dataset.pipeline
        assert bz._sampler(pipeline) == bz._sampler(mine)
        assert bz._find(pipeline, 'FormatShape')['input_format'] == 'NCTHW'
        # everything else is the shared augmentation
        base = Config.fromfile(bz.DATA_BASE)[
            f'{split}_dataloader'
        ].dataset.pipeline
        expected = [
            bz._sampler(mine)['type'] if 'Sample' in t['type'] else t['type']
            for t in base
        ]
        assert [t['type'] for t in pipeline] == expected


def test_discovery_leads_with_tsn_tsm_and_skips_bases_and_pretext():
    found = bz.discover_configs()
    assert found[:2] == bz.LEADING[:2]
    assert len(found) == len(set(found))
    for path in found:
        assert '_base_' not in path and 'pretext' not in osp.basename(path)
        assert 'motion' in osp.basename(path)


def test_aggregate_mean_and_spread():
    runs = [
        dict(
            config='a.py',
            seed=s,
            top1=v,
            pair_acc=1.0,
            direction_acc=v,
            train_clips_per_s=10.0,
            peak_rss_mb=1.0,
            latency_ms=2.0,
            train_seconds=3.0,
        )
        for s, v in enumerate([0.5, 0.7, 0.9])
    ]
    runs.append(dict(config='a.py', seed=3, failed=True))
    (row,) = bz.aggregate(runs, {'a.py': dict(gflops=1.5)})
    assert row['top1'] == pytest.approx(0.7)
    assert row['top1_sd'] == pytest.approx(0.2)
    assert (row['top1_min'], row['top1_max']) == (0.5, 0.9)
    assert row['failed'] == 1 and row['seeds'] == [0, 1, 2]
    assert row['gflops'] == 1.5
