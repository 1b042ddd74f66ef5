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
STOCK = osp.join(osp.dirname(REPO), 'shared', 'thirdparty', 'mmaction2-1.2.0',
                 'configs')
CONFIGS = sorted(
    osp.relpath(path, REPO)
    for path in glob.glob(osp.join(REPO, 'configs', '**', '*.py'),
                          recursive=True) if '_base_' not in path)


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
    path = osp.join(STOCK, 'recognition', 'tsm',
                    'tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_sthv2-rgb.py')
    if not osp.exists(path):
        pytest.skip(f'needs the stock MMAction2 configs in {STOCK}')
    cfg = Config.fromfile(path)
    assert 'runner_type' not in cfg
    assert cfg.default_hooks.checkpoint.type == 'CheckpointHook'
    assert cfg.model.cls_head.type == 'TSMHead'
