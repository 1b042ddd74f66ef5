"""Every config of ours selects, by name, the components that replace the old
global patches: the crash-safe checkpoint hook, the runner that also runs
distributed without CUDA and, where the head is MMAction2's TSMHead, the
checked head. A stock config selects none of them (importing the plugin
changes nothing for it)."""

import glob
import os.path as osp

import pytest
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
STOCK = osp.join(
    osp.dirname(REPO), 'shared', 'thirdparty', 'mmaction2-1.2.0', 'configs'
)
CONFIGS = sorted(
    osp.relpath(path, REPO)
    for path in glob.glob(
        osp.join(REPO, 'configs', '**', '*.py'), recursive=True
    )
    if '_base_' not in path
)


@pytest.mark.parametrize('config', CONFIGS)
def test_config_selects_the_protections(config):
    cfg = Config.fromfile(osp.join(REPO, config))
    assert cfg.default_scope == 'mmaction'
    assert 'selfy_mmaction' in cfg.custom_imports['imports']
    assert cfg.runner_type == 'mmaction.CPUDistributedRunner'
    assert cfg.default_hooks.checkpoint.type == 'AtomicCheckpointHook'
    head = cfg.model.get('cls_head') or {}
    assert head.get('type') != 'TSMHead', 'use CheckedTSMHead'


def test_a_stock_config_selects_none_of_them():
    path = osp.join(
        STOCK,
        'recognition',
        'tsm',
        'tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_sthv2-rgb.py',
    )
    if not osp.exists(path):
        pytest.skip(f'needs the stock MMAction2 configs in {STOCK}')
    cfg = Config.fromfile(path)
    assert 'runner_type' not in cfg
    assert cfg.default_hooks.checkpoint.type == 'CheckpointHook'
    assert cfg.model.cls_head.type == 'TSMHead'


def test_readme_drop_in_config_keeps_the_stock_runtime(tmp_path):
    """The README's drop-in example: a stock TSM config plus our block. It
    gets the SELFY block and nothing else of ours (stock head, hook, runner).
    """
    import torch
    from mmaction.registry import MODELS
    from mmengine.registry import init_default_scope

    path = tmp_path / 'my_selfy.py'
    path.write_text(
        "_base_ = 'mmaction::recognition/tsm/"
        "tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_sthv2-rgb.py'\n"
        "custom_imports = dict(imports=['selfy_mmaction'], "
        'allow_failed_imports=False)\n'
        "model = dict(backbone=dict(type='ResNetTSMWithBlocks', blocks=[dict("
        "cfg=dict(type='SELFYBlock', window=(5, 9, 9)), "
        "position='after_stage', layers=('layer2', ))]))\n"
    )
    cfg = Config.fromfile(str(path))
    assert 'runner_type' not in cfg
    assert cfg.default_hooks.checkpoint.type == 'CheckpointHook'
    init_default_scope('mmaction')
    cfg.model.backbone.update(pretrained=None, pretrained2d=False, depth=18)
    cfg.model.cls_head.in_channels = 512
    model = MODELS.build(cfg.model).eval()
    assert type(model.cls_head).__name__ == 'TSMHead'
    assert type(model.backbone.stage_blocks.layer2[0]).__name__ == 'SELFYBlock'
    with torch.no_grad():
        feats = model(torch.randn(1, 8, 3, 64, 64), mode='tensor')
        scores = model.cls_head(feats, num_segs=8)
    assert feats.shape == (8, 512, 2, 2) and scores.shape == (1, 174)
