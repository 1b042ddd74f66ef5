"""Checkpoint files: atomic writes (crash and SIGKILL mid-write), outdated
checkpoints deleted only after the save, model-zoo formats through MMEngine's
and MMAction2's loaders, and the report for a checkpoint that does not fit."""

import collections
import glob
import os
import os.path as osp
import runpy
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch
from mmaction.apis import init_recognizer
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.fileio import get_file_backend
from mmengine.logging import MessageHub
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from mmengine.runner.checkpoint import find_latest_checkpoint, save_checkpoint

from selfy_mmaction.engine import AtomicCheckpointHook
from selfy_mmaction.utils.checkpoint import (
    AtomicLocalBackend,
    CheckpointMismatchError,
    atomic_write,
    check_checkpoint_fits,
    mismatch_report,
)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MODEL_CFG = osp.join(REPO, 'configs', '_base_', 'models', 'tsm_r18_motion.py')


class _HalfWriter:
    """A file that writes half of what it gets, then fails (disk full,
    crash)."""

    def __init__(self, f):
        self.f = f

    def write(self, data):
        self.f.write(data[: len(data) // 2])
        self.f.flush()
        raise OSError('simulated crash in the middle of a write')

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


def _hidden_temps(dirname):
    return glob.glob(osp.join(dirname, '.*.tmp'))


def test_atomic_backend_is_selected_by_name_only(tmp_path):
    """'atomic_local' is a backend of its own; the stock local backend (what
    every other MMEngine user gets) is not ours."""
    atomic = get_file_backend(
        str(tmp_path), backend_args=dict(backend='atomic_local')
    )
    assert type(atomic) is AtomicLocalBackend
    assert type(get_file_backend(str(tmp_path))) is not AtomicLocalBackend


def test_crash_during_a_checkpoint_save_keeps_the_previous_one(
    tmp_path, monkeypatch
):
    path = str(tmp_path / 'epoch_1.pth')
    args = dict(backend='atomic_local')  # what AtomicCheckpointHook passes
    save_checkpoint(
        dict(state_dict=dict(w=torch.ones(1000))), path, backend_args=args
    )
    real_fdopen = os.fdopen
    monkeypatch.setattr(
        os, 'fdopen', lambda fd, mode: _HalfWriter(real_fdopen(fd, mode))
    )
    with pytest.raises(OSError, match='simulated crash'):
        # MMEngine's save path: torch.save to bytes, backend.put
        save_checkpoint(
            dict(state_dict=dict(w=torch.zeros(1000))), path, backend_args=args
        )
    monkeypatch.undo()
    assert torch.equal(torch.load(path)['state_dict']['w'], torch.ones(1000))
    assert _hidden_temps(str(tmp_path)) == []


_KILL_MID_WRITE = """
import importlib.util, os, signal, sys
spec = importlib.util.spec_from_file_location('ckpt', sys.argv[1])
ckpt = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ckpt)
real_fdopen = os.fdopen

class Dying:
    def __init__(self, f):
        self.f = f
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        pass
    def write(self, data):
        self.f.write(data[:len(data) // 2])
        self.f.flush()
        os.kill(os.getpid(), signal.SIGKILL)

os.fdopen = lambda fd, mode: Dying(real_fdopen(fd, mode))
ckpt.atomic_write(sys.argv[2], b'new' * 100000)
"""


def test_sigkill_in_the_middle_of_a_write(tmp_path):
    """A real SIGKILL: no cleanup runs; the target keeps its old content,
    and the next write removes the killed writer's temporary file."""
    target = str(tmp_path / 'epoch_2.pth')
    atomic_write(target, b'old')
    module = osp.join(REPO, 'selfy_mmaction', 'utils', 'checkpoint.py')
    proc = subprocess.run(
        [sys.executable, '-c', _KILL_MID_WRITE, module, target],
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == -9, proc.stderr
    assert open(target, 'rb').read() == b'old'
    leftovers = _hidden_temps(str(tmp_path))
    assert len(leftovers) == 1 and os.path.getsize(leftovers[0]) > 0
    atomic_write(target, b'newer')
    assert open(target, 'rb').read() == b'newer'
    assert _hidden_temps(str(tmp_path)) == []


def test_atomic_write_keeps_umask_permissions(tmp_path):
    path = tmp_path / 'f'
    atomic_write(str(path), b'1')
    (tmp_path / 'g').write_bytes(b'1')
    assert path.stat().st_mode == (tmp_path / 'g').stat().st_mode


class _Runner(SimpleNamespace):
    """What the checkpoint hook needs; ``fail_at`` makes that save crash."""

    def save_checkpoint(
        self, out_dir, filename, *args, backend_args=None, **kwargs
    ):
        self.present_during_save = sorted(os.listdir(out_dir))
        if filename == self.fail_at:
            raise OSError('crash during the save')
        save_checkpoint(
            dict(state_dict={}),
            osp.join(out_dir, filename),
            backend_args=backend_args,
        )


def _keep_one(tmp_path, fail_at):
    runner = _Runner(
        work_dir=str(tmp_path),
        fail_at=fail_at,
        message_hub=MessageHub.get_instance(str(tmp_path)),
        logger=SimpleNamespace(info=lambda msg: None),
    )
    hook = AtomicCheckpointHook(interval=1, max_keep_ckpts=1)
    hook.before_train(runner)
    hook._save_checkpoint_with_step(runner, 1, dict(epoch=1))
    return hook, runner


def test_hook_saves_through_the_atomic_backend(tmp_path):
    hook, runner = _keep_one(tmp_path, fail_at=None)
    assert type(hook.file_backend) is AtomicLocalBackend
    assert hook.backend_args == dict(backend='atomic_local')
    assert (tmp_path / 'last_checkpoint').read_text() == str(
        tmp_path / 'epoch_1.pth'
    )


def test_crash_while_writing_last_checkpoint_keeps_the_old_pointer(
    tmp_path, monkeypatch
):
    hook, runner = _keep_one(tmp_path, fail_at=None)
    real_fdopen = os.fdopen
    monkeypatch.setattr(
        os, 'fdopen', lambda fd, mode: _HalfWriter(real_fdopen(fd, mode))
    )
    with pytest.raises(OSError, match='simulated crash'):
        hook._save_checkpoint_with_step(runner, 2, dict(epoch=2))
    monkeypatch.undo()
    assert find_latest_checkpoint(str(tmp_path)) == str(
        tmp_path / 'epoch_1.pth'
    )


def test_outdated_checkpoint_is_deleted_only_after_the_save(tmp_path):
    hook, runner = _keep_one(tmp_path, fail_at=None)
    hook._save_checkpoint_with_step(runner, 2, dict(epoch=2))
    assert 'epoch_1.pth' in runner.present_during_save  # MMEngine: deleted
    assert sorted(os.listdir(tmp_path)) == ['epoch_2.pth', 'last_checkpoint']
    assert list(hook.keep_ckpt_ids) == [2]
    assert runner.message_hub.get_info('keep_ckpt_ids') == [2]


def test_crash_during_a_save_with_max_keep_ckpts_1_leaves_a_checkpoint(
    tmp_path,
):
    hook, runner = _keep_one(tmp_path, fail_at='epoch_2.pth')
    with pytest.raises(OSError):
        hook._save_checkpoint_with_step(runner, 2, dict(epoch=2))
    latest = find_latest_checkpoint(str(tmp_path))
    assert latest == str(tmp_path / 'epoch_1.pth')
    assert torch.load(latest)['state_dict'] == {}


def test_replaced_best_checkpoint_is_deleted_after_the_new_one_is_saved(
    tmp_path,
):
    runner = _Runner(
        work_dir=str(tmp_path),
        fail_at=None,
        epoch=0,
        iter=0,
        message_hub=MessageHub.get_instance(str(tmp_path) + 'b'),
        logger=SimpleNamespace(info=lambda msg: None),
    )
    hook = AtomicCheckpointHook(interval=1, save_best='acc', rule='greater')
    hook.before_train(runner)
    hook._save_best_checkpoint(runner, dict(acc=0.5))
    first = hook.best_ckpt_path
    runner.epoch = 1
    hook._save_best_checkpoint(runner, dict(acc=0.7))
    assert osp.basename(first) in runner.present_during_save
    assert not osp.exists(first) and osp.exists(hook.best_ckpt_path)


# ---------------------------------------------------------------- loading


@pytest.fixture(scope='module')
def model_cfg():
    init_default_scope('mmaction')
    return Config.fromfile(MODEL_CFG)


def _model(cfg, num_classes=8):
    cfg = cfg.copy()
    cfg.model.cls_head.num_classes = num_classes
    return MODELS.build(cfg.model)


def _zoo_checkpoint(state_dict):
    """As MMAction2's publish_model leaves a 1.x checkpoint: meta and
    weights."""
    return dict(
        meta=dict(
            epoch=50,
            iter=123400,
            seed=0,
            cfg='model = dict()',
            experiment_name='tsm_r18',
            time='20230101_000000',
            mmengine_version='0.7.0',
            dataset_meta=dict(classes=[f'c{i}' for i in range(8)]),
        ),
        state_dict=collections.OrderedDict(state_dict),
    )


def _resume_checkpoint(state_dict):
    """What MMEngine's Runner saves for --resume."""
    hub = MessageHub.get_instance('test_ckpt_resume')
    hub.update_scalar('train/loss', 0.5)
    return dict(
        _zoo_checkpoint(state_dict),
        message_hub=hub.state_dict(),
        optimizer=dict(
            state={0: dict(momentum_buffer=torch.zeros(3))},
            param_groups=[dict(lr=0.01, params=[0])],
        ),
        param_schedulers=[dict(T_max=50, base_lrs=[0.01], last_epoch=50)],
    )


@pytest.mark.parametrize('kind', ['zoo', 'zoo-legacy-format', 'resume'])
def test_published_checkpoints_load_weights_only(model_cfg, tmp_path, kind):
    source = _model(model_cfg)
    state = source.state_dict()
    ckpt = (
        _resume_checkpoint(state)
        if kind == 'resume'
        else _zoo_checkpoint(state)
    )
    path = str(tmp_path / 'ckpt.pth')
    torch.save(
        ckpt, path, _use_new_zipfile_serialization=kind != 'zoo-legacy-format'
    )

    target = _model(model_cfg)
    load_checkpoint(target, path, strict=True)  # MMEngine, weights-only
    recognizer = init_recognizer(model_cfg, path, device='cpu')  # MMAction2
    for model in (target, recognizer):
        assert all(
            torch.equal(v, state[k]) for k, v in model.state_dict().items()
        )
    assert check_checkpoint_fits(target, path)['meta']['epoch'] == 50


def test_different_number_of_classes_is_reported(model_cfg, tmp_path):
    path = str(tmp_path / 'eight.pth')
    torch.save(_zoo_checkpoint(_model(model_cfg).state_dict()), path)
    five = _model(model_cfg, num_classes=5)
    with pytest.raises(CheckpointMismatchError) as err:
        check_checkpoint_fits(five, path)
    msg = str(err.value)
    assert f'{path} does not fit the model (Recognizer2D)' in msg
    assert 'cls_head.fc_cls.weight: (8, 512) vs (5, 512)' in msg
    assert 'cls_head.fc_cls.bias: (8,) vs (5,)' in msg
    assert 'trained for 8 classes; the model has 5' in msg
    assert f"load_from = '{path}'" in msg and 'strict=False' in msg
    assert "prefix='backbone.'" in msg


def test_the_suggested_non_strict_loads_work(model_cfg, tmp_path):
    eight = _model(model_cfg)
    path = str(tmp_path / 'eight.pth')
    torch.save(_zoo_checkpoint(eight.state_dict()), path)
    five = _model(model_cfg, num_classes=5)
    head = five.cls_head.fc_cls.weight.clone()
    load_checkpoint(five, path, strict=False)
    assert torch.equal(
        five.backbone.conv1.conv.weight, eight.backbone.conv1.conv.weight
    )
    assert torch.equal(five.cls_head.fc_cls.weight, head)  # left alone

    cfg = model_cfg.copy()
    cfg.model.cls_head.num_classes = 5
    cfg.model.backbone.init_cfg = dict(
        type='Pretrained', checkpoint=path, prefix='backbone.'
    )
    five = MODELS.build(cfg.model)
    five.init_weights()
    assert torch.equal(
        five.backbone.layer4[1].conv2.conv.weight,
        eight.backbone.layer4[1].conv2.conv.weight,
    )


def test_missing_and_unexpected_keys_are_listed(model_cfg):
    model = _model(model_cfg)
    state = model.state_dict()
    state = {
        ('module.' + k): v
        for k, v in state.items()
        if not k.startswith('backbone.layer4')
    }
    state['neck.extra.weight'] = torch.zeros(1)
    msg = mismatch_report(model, dict(state_dict=state), source='x.pth')
    assert 'model keys are missing from the checkpoint: backbone.layer4' in msg
    assert '1 checkpoint keys are not in the model: neck.extra.weight' in msg
    assert 'module.' not in msg.split('\n')[1]  # DDP prefix removed
    assert mismatch_report(model, model.state_dict()) == ''


def test_tools_test_refuses_a_checkpoint_that_does_not_fit(
    model_cfg, tmp_path, monkeypatch
):
    path = str(tmp_path / 'five.pth')
    torch.save(_zoo_checkpoint(_model(model_cfg, 5).state_dict()), path)
    config = osp.join(REPO, 'configs', 'selfy_tsm_r18_motion.py')
    monkeypatch.setattr(
        sys,
        'argv',
        ['test.py', config, path, '--work-dir', str(tmp_path / 'work')],
    )
    with pytest.raises(
        CheckpointMismatchError, match='trained for 5 classes; the model has 8'
    ):
        runpy.run_path(osp.join(REPO, 'tools', 'test.py'), run_name='__main__')
