"""SELFY's window, channels and position are one ``--cfg-options`` key each,
merged by tools/train.py exactly as on the command line."""

import copy
import importlib.util
import os.path as osp
import sys

from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = osp.join(REPO, 'configs')

_spec = importlib.util.spec_from_file_location(
    'train_tool', osp.join(REPO, 'tools', 'train.py')
)
train_tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(train_tool)


def merged(config, *options, monkeypatch):
    """The config as tools/train.py builds it from ``config --cfg-options
    *options`` (shell-unquoted strings, as argv holds them)."""
    argv = ['train.py', config, '--cfg-options', *options]
    monkeypatch.setattr(sys, 'argv', argv)
    args = train_tool.parse_args()
    return train_tool.merge_args(Config.fromfile(config), args)


def shapes(module):
    return [tuple(p.shape) for p in module.parameters()]


def test_one_key_gives_the_window9_config(monkeypatch):
    """The released (5, 9, 9) config with ``window=(9,9,9)`` is the paper's
    (9, 9, 9) config, key by key."""
    base = osp.join(
        CONFIGS,
        'selfy',
        'selfy_imagenet-pretrained-r50_8xb8-1x1x16-50e_sthv1-rgb.py',
    )
    cfg = merged(
        base,
        'model.backbone.blocks.0.cfg.window=(9,9,9)',
        monkeypatch=monkeypatch,
    )
    paper = Config.fromfile(
        osp.join(
            CONFIGS,
            'selfy',
            'selfy_imagenet-pretrained-r50-window9x9x9'
            '_8xb8-1x1x16-50e_sthv1-rgb.py',
        )
    )
    assert cfg.model.to_dict() == paper.model.to_dict()
    assert cfg.model.backbone.blocks[0].cfg.window == (9, 9, 9)


def test_window_channels_and_position_reach_the_built_block(monkeypatch):
    cfg = merged(
        osp.join(CONFIGS, 'selfy_tsm_r18_motion.py'),
        'model.backbone.blocks.0.cfg.window=(3,5,7)',
        'model.backbone.blocks.0.cfg.hidden_channels=16',
        'model.backbone.blocks.0.layers=(layer3,)',
        monkeypatch=monkeypatch,
    )
    block = cfg.model.backbone.blocks[0]
    assert block.cfg.window == (3, 5, 7)
    assert block.cfg.hidden_channels == 16
    assert block.layers == ('layer3',)
    assert block.position == 'after_stage'
    init_default_scope('mmaction')
    backbone = MODELS.build(copy.deepcopy(cfg.model.backbone))
    assert set(backbone.stage_blocks) == {'layer3'}
    (selfy,) = backbone.stage_blocks['layer3']
    assert type(selfy).__name__ == 'SELFYBlock'
    windows = {getattr(m, 'window', None) for m in selfy.modules()} - {None}
    assert windows == {(3, 5, 7)}
    # the block is SELFYBlock(hidden_channels=16, ...) on res4's 256 channels
    direct = MODELS.build(
        dict(
            type='SELFYBlock',
            in_channels=256,
            num_segments=8,
            hidden_channels=16,
            window=(3, 5, 7),
            stride=1,
        )
    )
    assert shapes(selfy) == shapes(direct)
    default_width = MODELS.build(
        dict(
            type='SELFYBlock',
            in_channels=256,
            num_segments=8,
            hidden_channels=64,
            window=(3, 5, 7),
            stride=1,
        )
    )
    assert shapes(selfy) != shapes(default_width)
