"""selfy_mmaction.benchmark.study: variants, recipes, resuming and the
report (the --quick run end to end: tests/tools/test_motion_study.py)."""

import json
import math
import os
import os.path as osp

import pytest
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope

from selfy_mmaction.benchmark import study, zoo


def _built_model_cfg(name, recipe):
    cfg = Config.fromfile(study.VARIANTS[name][0])
    return zoo.apply_recipe(
        cfg, study.variant_recipe(recipe, name), '/tmp/unused', 0
    )


@pytest.fixture(scope='module')
def recipe(tmp_path_factory):
    return study.study_recipe(False, str(tmp_path_factory.mktemp('study')))


def test_every_experiment_names_known_variants():
    for names in study.EXPERIMENTS.values():
        assert set(names) <= set(study.VARIANTS)
    assert set(study.ROBUSTNESS) <= set(study.VARIANTS)


@pytest.mark.parametrize('name', sorted(study.VARIANTS))
def test_every_variant_builds_on_the_suite(name, recipe):
    init_default_scope('mmaction')
    cfg = _built_model_cfg(name, recipe)
    assert cfg.model.cls_head.num_classes == 11
    loader = cfg.train_dataloader
    assert loader.dataset.type == 'MotionSuiteDataset'
    assert loader.dataset.ann_file.endswith('suite_train_list_videos.txt')
    assert cfg.test_dataloader.dataset.ann_file.endswith(
        'suite_test_list_videos.txt'
    )
    assert {e['type'] for e in cfg.test_evaluator} == {
        'AccMetric',
        'MotionSuiteMetric',
    }
    MODELS.build(cfg.model)


def test_selfy_variants_differ_only_in_what_the_experiment_varies(recipe):
    def block(name):
        return _built_model_cfg(name, recipe).model.backbone.blocks[0].cfg

    base = block('SELFY-TSM')
    assert base.window == [5, 9, 9] and base.stride == 1
    assert _built_model_cfg('SELFY-TSM', recipe).model.backbone.blocks[
        0
    ].layers == ['layer1']
    for name, key, value in [
        ('SELFY-TSM L=1', 'window', [1, 9, 9]),
        ('SELFY-TSM U=V=3', 'window', [5, 3, 3]),
        ('SELFY-TSM MLP', 'extraction', 'mlp'),
        ('SELFY-TSM soft-argmax', 'extraction', 'softargmax'),
    ]:
        other = block(name)
        assert other[key] == value
        assert {k: v for k, v in other.items() if k != key} == {
            k: v for k, v in base.items() if k != key
        }
    small = block('SELFY-TSM small')
    assert (small.hidden_channels, small.extraction_channels) == (8, [2] * 4)
    assert small.integration_channels == [8] * 4
    assert small.window == base.window and small.extraction == 'conv'
    tsn = _built_model_cfg('TSN+SELFY', recipe).model.backbone
    assert tsn.is_shift is False and tsn.blocks[0].cfg == base


def test_only_the_robustness_variants_are_tested_under_corruptions(recipe):
    assert study.variant_recipe(recipe, 'TSM')['corruptions'] == [
        list(c) for c in study.CORRUPTIONS
    ]
    assert study.variant_recipe(recipe, 'SELFY-TSM L=1')['corruptions'] == []


def _fake_run(
    work_dir,
    recipe,
    name,
    seed,
    top1,
    corrupted_top1=None,
    wall_seconds=1200.0,
):
    run_dir = zoo._run_dir(
        study._variant_dir(work_dir, name), study.VARIANTS[name][0], seed
    )
    os.makedirs(run_dir, exist_ok=True)
    metrics = {
        'acc/top1': top1,
        'suite/translate_top1': top1,
        'suite/interact_top1': top1,
        'suite/direction_acc': top1,
        'suite/speed_acc': top1,
        'suite/speed0_top1': top1,
        'suite/speed1_top1': float('nan'),
        'suite/speed2_top1': top1,
        'suite/speed3_top1': top1,
    }
    result = dict(
        name=name,
        seed=seed,
        recipe=study.variant_recipe(recipe, name),
        metrics=metrics,
        top1=top1,
        corrupted={}
        if corrupted_top1 is None
        else {'frame_drop:3': {'acc/top1': corrupted_top1}},
        train_seconds=10.0,
        train_clips_per_s=5.0,
        wall_seconds=wall_seconds,
    )
    with open(osp.join(run_dir, 'result.json'), 'w') as f:
        json.dump(result, f)
    return result


def test_report_from_finished_runs_only_with_this_recipe(tmp_path):
    recipe = study.study_recipe(True, str(tmp_path), seeds=[0, 1])
    _fake_run(tmp_path, recipe, 'TSN', 0, 0.5, corrupted_top1=0.25)
    _fake_run(
        tmp_path, recipe, 'TSN', 1, 0.7, corrupted_top1=0.7, wall_seconds=600.0
    )
    _fake_run(tmp_path, recipe, 'SELFY-TSM', 0, 0.9)
    stale = dict(recipe, epochs=recipe['epochs'] + 1)
    _fake_run(tmp_path, stale, 'TSM', 0, 0.9)  # another recipe: ignored
    runs = study.collect_runs(str(tmp_path), recipe)
    assert sorted((r['variant'], r['seed']) for r in runs) == [
        ('SELFY-TSM', 0),
        ('TSN', 0),
        ('TSN', 1),
    ]
    summary = study.summarise(runs, recipe)
    assert summary['TSN']['acc/top1']['mean'] == pytest.approx(0.6)
    assert summary['TSN']['acc/top1']['sd'] == pytest.approx(0.1414, abs=1e-3)
    assert summary['TSN']['suite/speed1_top1'] is None  # nan: no clips
    rel = summary['TSN']['relative']['frame_drop:3']
    assert rel['mean'] == pytest.approx(0.75) and rel['n'] == 2
    assert 'TSM' not in summary
    study.write_report(
        str(tmp_path), recipe, dict(processor='cpu', cpus=2, jobs=1)
    )
    table = (tmp_path / 'study.md').read_text()
    # runs of 20 + 10 + 20 min (the stale one does not count), 2 side by
    # side; the estimate: 2 seeds x (TSN's fastest 10 + SELFY-TSM's 20 min)
    assert (
        'All 3 finished runs together: 0.83 h of run wall time, 0.42 h with 2 '
        "side by side; 2 variants x 2 seeds at each variant's fastest run: "
        '0.50 h with 2 side by side.'
    ) in table
    assert '| TSN | 2 | 60.0 ± 14.1 (50.0–70.0) |' in table
    assert '| TSN | 75.0 ± 35.4 |' in table  # robustness: relative to clean
    for png in (
        'study_speed.png',
        'study_window.png',
        'study_corruptions.png',
    ):
        data = (tmp_path / png).read_bytes()
        assert data[:8] == b'\x89PNG\r\n\x1a\n' and len(data) > 1000
    payload = json.loads((tmp_path / 'study.json').read_text())
    assert not math.isnan(payload['summary']['TSN']['acc/top1']['mean'])


def test_unknown_variant_is_named(tmp_path):
    class Args:
        quick, work_dir, jobs, seeds, epochs = (
            True,
            str(tmp_path),
            1,
            None,
            None,
        )
        variants = ['SELFY-TSN']

    with pytest.raises(ValueError, match="unknown variants \\['SELFY-TSN'\\]"):
        study.run_study(Args)


def test_cells_show_no_sd_for_one_seed():
    one = study._stats([0.745])
    three = study._stats([0.7, 0.8, 0.75])
    assert study._cell(one, spread=True) == '74.5'
    assert study._cell(three, spread=True) == '75.0 ± 5.0 (70.0–80.0)'
    assert study._cell(None) == '-'
