"""Shared fixture of the zoo tools' tests: a TSM-R18 motion model trained for
one short epoch and published into a temporary repository."""

import importlib.util
import os.path as osp

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TSM_MOTION = osp.join(REPO, 'configs', 'tsm', 'tsm_r18_1x1x8-4e_motion-rgb.py')


def _tool(relpath: str):
    """A command-line tool loaded as a module, to call its ``main``."""
    name = osp.splitext(osp.basename(relpath))[0] + '_cli'
    spec = importlib.util.spec_from_file_location(
        name, osp.join(REPO, relpath)
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='session')
def published_tsm(tmp_path_factory):
    """``dict(root, config, work_dir, tiny_config, checkpoint, entry,
    weights, data)``: TSM-R18 (the motion config's model) trained for one
    epoch of 16 generated 32 px clips (4 iterations) through MMEngine's
    Runner, then published by ``tools/publish_model.py`` into ``root`` (a
    temporary repository whose ``configs/tsm/`` config inherits the real
    one)."""
    from mmengine.config import Config
    from test_train_tools import _tiny_config

    from selfy_mmaction.engine import build_runner

    publish_model = _tool('tools/publish_model.py')

    base = tmp_path_factory.mktemp('tiny_tsm')
    tiny = _tiny_config(base, TSM_MOTION)
    work_dir = str(base / 'work')
    cfg = Config.fromfile(tiny)
    cfg.work_dir = work_dir
    cfg.train_cfg.max_epochs = 1
    cfg.train_cfg.val_interval = 2  # no validation: publishing evaluates
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0)]
    cfg.experiment_name = 'tiny_tsm'
    build_runner(cfg).train()

    root = tmp_path_factory.mktemp('repo')
    config = root / 'configs' / 'tsm' / osp.basename(TSM_MOTION)
    config.parent.mkdir(parents=True)
    config.write_text(f'_base_ = [{TSM_MOTION!r}]\n')
    entry = publish_model.main(
        [work_dir, '--config', str(config), '--repo-root', str(root)]
    )
    return dict(
        root=str(root),
        config=str(config),
        work_dir=work_dir,
        tiny_config=tiny,
        checkpoint=osp.join(work_dir, 'epoch_1.pth'),
        entry=entry,
        weights=osp.join(str(root), entry['Weights']),
        data=str(base / 'data'),
    )
