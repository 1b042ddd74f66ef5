"""Refactoring the config tree (inheriting MMAction2's bases, one base per
family) keeps every paper recipe: each config's built dict equals the one
recorded in tests/configs/data/built_configs.json, key by key.

The fixture was written before the configs were restructured
(``python tests/configs/test_configs_unchanged.py --write [config ...]``
records the named configs, or every config absent from the fixture; a
config added later is recorded when it is added, not rewritten later)."""

import glob
import json
import os.path as osp
import sys

import pytest
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_ROOT = osp.join(REPO, 'configs')
FIXTURE = osp.join(
    osp.dirname(osp.abspath(__file__)), 'data', 'built_configs.json'
)


def all_configs():
    """Every config under configs/ except the bases, relative to configs/."""
    return sorted(
        osp.relpath(p, CONFIG_ROOT)
        for p in glob.glob(osp.join(CONFIG_ROOT, '**', '*.py'), recursive=True)
        if '_base_' not in osp.relpath(p, CONFIG_ROOT)
    )


def built(name):
    """The config as the Runner gets it, in JSON types (tuples -> lists)."""
    cfg = Config.fromfile(osp.join(CONFIG_ROOT, name))
    return json.loads(json.dumps(cfg.to_dict(), sort_keys=True))


def differences(recorded, now, prefix=''):
    """``(key, recorded, now)`` for every leaf that differs; a missing key
    shows as ``'<absent>'``."""
    if isinstance(recorded, dict) and isinstance(now, dict):
        out = []
        for key in sorted(set(recorded) | set(now), key=str):
            out += differences(
                recorded.get(key, '<absent>'),
                now.get(key, '<absent>'),
                f'{prefix}.{key}' if prefix else str(key),
            )
        return out
    if (
        isinstance(recorded, list)
        and isinstance(now, list)
        and len(recorded) == len(now)
    ):
        out = []
        for i, (a, b) in enumerate(zip(recorded, now)):
            out += differences(a, b, f'{prefix}.{i}')
        return out
    return [] if recorded == now else [(prefix, recorded, now)]


# Keys a config may now carry that were absent when it was recorded, because
# they do not change the recipe: name -> why. Top-level variables a base
# defines for its own pipelines (the pipelines that use them are compared),
# and runtime settings of configs/_base_/default_runtime.py.
ADDED_KEYS = {
    'default_hooks.throughput': 'ThroughputHook logs clips/s',
    'env_cfg.cpu_budget': "the CPU runner's threads and workers (no CUDA)",
    'sthv2_flip_label_map': "the sthv2 base's flip map, inherited by the Diving-48 and Gym99 bases "
    'built on it (their Flip has no map)',
    'tcp_head': 'the TCP head of _base_/models/tcp_head.py that the TCP configs put in '
    'place of their heads (model.cls_head is compared)',
}


def recipe_differences(recorded, now):
    """``differences`` without a key of ``ADDED_KEYS`` that only became
    present."""
    return [
        (key, a, b)
        for key, a, b in differences(recorded, now)
        if not (key in ADDED_KEYS and a == '<absent>')
    ]


def _recorded():
    if not osp.exists(FIXTURE):
        return {}
    with open(FIXTURE) as f:
        return json.load(f)


RECORDED = _recorded()


@pytest.mark.parametrize('name', sorted(RECORDED))
def test_built_config_is_unchanged(name):
    path = osp.join(CONFIG_ROOT, name)
    assert osp.exists(path), f'{name} was recorded but no longer exists'
    diff = recipe_differences(RECORDED[name], built(name))
    assert not diff, f'{name} differs from the recorded build:\n' + '\n'.join(
        f'  {key}: recorded {a!r}, now {b!r}' for key, a, b in diff
    )


def test_differences_names_the_changed_keys():
    a = dict(model=dict(backbone=dict(blocks=[dict(cfg=dict(window=[5, 9]))])))
    b = dict(
        model=dict(
            backbone=dict(blocks=[dict(cfg=dict(window=[9, 9]))]), extra=1
        )
    )
    assert differences(a, b) == [
        ('model.backbone.blocks.0.cfg.window.0', 5, 9),
        ('model.extra', '<absent>', 1),
    ]
    assert differences(a, a) == []
    helper = dict(sthv2_flip_label_map={86: 87})
    assert recipe_differences({}, helper) == []
    assert recipe_differences(helper, {}) == [
        ('sthv2_flip_label_map', {86: 87}, '<absent>')
    ]


def _write(names):
    recorded = _recorded()
    for name in names or [n for n in all_configs() if n not in recorded]:
        recorded[name] = built(name)
        print('recorded', name)
    with open(FIXTURE, 'w') as f:
        json.dump(recorded, f, indent=1, sort_keys=True)
        f.write('\n')


if __name__ == '__main__':
    if sys.argv[1:2] != ['--write']:
        sys.exit(__doc__)
    _write(sys.argv[2:])
