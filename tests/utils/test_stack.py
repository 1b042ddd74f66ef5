"""The import-time changes (selfy_mmaction.utils.stack): each test shows the
failure without it, that it is gated on the versions that need it, and that
importing the plugin replaces nothing of the stock stack."""

import io
import os
import os.path as osp
import pickle
import subprocess
import sys
from collections import OrderedDict

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

from selfy_mmaction.utils.stack import (
    allow_checkpoint_globals,
    repair_missing_drn,
)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
STOCK_CHECK = osp.join(
    osp.dirname(REPO), 'shared', 'tools', 'stock_attributes_unchanged.py'
)


def _run(code):
    return subprocess.run(
        [sys.executable, '-c', code],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_drn_import_fails_without_repair_and_works_with_it():
    import mmaction

    if osp.isdir(
        osp.join(osp.dirname(mmaction.__file__), 'models', 'localizers', 'drn')
    ):
        pytest.skip('this mmaction2 ships DRN: nothing to repair')
    plain = _run('import mmaction.models')
    assert plain.returncode != 0
    assert "No module named 'mmaction.models.localizers.drn'" in plain.stderr
    repaired = _run(
        'import selfy_mmaction, mmaction.models; '
        'from mmaction.registry import MODELS; '
        "assert MODELS.get('ResNetTSM') is not None"
    )
    assert repaired.returncode == 0, repaired.stderr


def test_drn_repair_leaves_a_fixed_mmaction_alone(tmp_path):
    os.makedirs(tmp_path / 'models' / 'localizers' / 'drn')
    assert repair_missing_drn(str(tmp_path), version='1.2.0') is False
    # another release is never touched, even with the folder missing
    assert repair_missing_drn(str(tmp_path / 'x'), version='1.3.0') is False


def test_weights_only_allowlist_is_gated_on_the_broken_versions():
    assert allow_checkpoint_globals('0.10.8', '2.13.0') is False
    assert allow_checkpoint_globals('0.10.7', '2.5.1') is False
    assert allow_checkpoint_globals('0.10.7', '2.13.0') is True


def test_importing_the_plugin_replaces_no_stock_attribute():
    """The shared checker records every attribute of every loaded stock
    torch/mmengine/mmcv/mmaction module and class, imports the plugin and
    lists what changed."""
    if not osp.exists(STOCK_CHECK):
        pytest.skip(f'{STOCK_CHECK} is not there (../shared missing)')
    proc = _run(
        f'import runpy, sys; sys.argv = [{STOCK_CHECK!r}]; '
        f'runpy.run_path({STOCK_CHECK!r}, run_name="__main__")'
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith('unchanged'), proc.stdout


def test_stock_tsm_head_is_unchanged_by_the_import():
    """MMAction2's TANet test feeds TSMHead 48 frames in train mode; stock
    TSMHead accepts it, and importing the plugin must not change that."""
    from mmaction.models.heads import TSMHead

    head = TSMHead(num_classes=4, in_channels=8, num_segments=8).train()
    # 48 frames / num_segments=8: 6 score rows, no error
    assert head(torch.randn(48, 8, 2, 2), num_segs=24).shape == (6, 4)


def test_config_package_is_registered_and_nothing_else():
    from mmengine.config.utils import MODULE2PACKAGE

    assert MODULE2PACKAGE['selfy_mmaction'] == 'selfy-mmaction'
    assert MODULE2PACKAGE['mmaction'] == 'mmaction2'


def _mmengine_like_checkpoint():
    hub = MessageHub.get_instance('test_stack_ckpt')
    hub.update_scalar('train/lr', 0.01)
    hub.update_scalar('train/loss', 1.5)
    hub.update_info('eta', np.float64(12.5))

    return dict(
        meta=dict(epoch=1, iter=10, seed=0, mmengine_version='0.10.7'),
        state_dict=OrderedDict(w=torch.ones(2, 2)),
        # a buffer created but never filled pickles an empty array: bytes()
        message_hub=dict(
            hub.state_dict(),
            log_scalars=dict(
                hub.state_dict()['log_scalars'],
                **{'train/empty': HistoryBuffer()},
            ),
        ),
        optimizer=dict(state={}, param_groups=[dict(lr=0.01, params=[0])]),
        param_schedulers=[dict(milestones={30: 1, 40: 1}, base_lrs=[0.01])],
    )


def test_mmengine_checkpoint_needs_the_allowlist(tmp_path):
    path = str(tmp_path / 'ckpt.pth')
    torch.save(_mmengine_like_checkpoint(), path)
    code = (
        f'import torch\ntry:\n    torch.load({path!r})\n'
        f'except Exception as e:\n    print(type(e).__name__)'
    )
    assert 'UnpicklingError' in _run(code).stdout  # stock torch refuses it
    ckpt = torch.load(path)  # weights-only with our allowlist
    assert torch.equal(ckpt['state_dict']['w'], torch.ones(2, 2))
    buffers = ckpt['message_hub']['log_scalars']
    assert isinstance(buffers['train/lr'], HistoryBuffer)
    assert buffers['train/loss'].current() == pytest.approx(1.5)
    assert len(buffers['train/empty'].data[0]) == 0


NUMPY_DTYPES = [
    np.bool_,
    np.int8,
    np.uint8,
    np.int16,
    np.uint16,
    np.int32,
    np.uint32,
    np.int64,
    np.uint64,
    np.float16,
    np.float32,
    np.float64,
    np.longdouble,
    np.complex64,
    np.complex128,
]


@pytest.mark.parametrize('dtype', NUMPY_DTYPES, ids=lambda d: d.__name__)
def test_numpy_scalars_arrays_and_dtypes_of_each_kind_load(tmp_path, dtype):
    path = str(tmp_path / 'np.pth')
    values = dict(
        scalar=dtype(1),
        array=np.arange(6).astype(dtype).reshape(2, 3),
        empty=np.zeros(0, dtype),
        dtype=np.dtype(dtype),
    )
    torch.save(dict(meta=values), path)
    loaded = torch.load(path)['meta']
    assert loaded['scalar'] == dtype(1) and loaded['dtype'] == np.dtype(dtype)
    assert loaded['array'].dtype == dtype
    assert np.array_equal(loaded['array'], values['array'])
    assert loaded['empty'].shape == (0,)


class _BytesBomb:
    """bytes(n) would allocate n bytes while loading."""

    def __reduce__(self):
        return (bytes, (10**6,))


def test_bytes_is_limited_to_the_empty_buffer(tmp_path):
    path = str(tmp_path / 'bomb.pth')
    torch.save(dict(x=_BytesBomb()), path, pickle_protocol=2)
    with pytest.raises(pickle.UnpicklingError, match=r'only bytes\(\)'):
        torch.load(path)


class _Exploit:
    def __reduce__(self):
        return (os.system, ('echo pwned',))


def test_pickled_callable_is_refused(tmp_path):
    path = str(tmp_path / 'evil.pth')
    torch.save(dict(state_dict={}, evil=_Exploit()), path)
    with pytest.raises(pickle.UnpicklingError, match='system'):
        torch.load(path)


class _GetattrExploit:
    """getattr(HistoryBuffer, '__init__') would lead to its globals."""

    def __reduce__(self):
        return (getattr, (HistoryBuffer, '__init__'))


def test_getattr_is_limited_to_history_buffer_statistics(tmp_path):
    path = str(tmp_path / 'evil_getattr.pth')
    torch.save(dict(x=_GetattrExploit()), path)
    with pytest.raises(
        pickle.UnpicklingError, match='only HistoryBuffer statistics'
    ):
        torch.load(path)


def test_weights_only_is_never_switched_off():
    assert 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD' not in os.environ
    buf = io.BytesIO()
    torch.save({'w': torch.zeros(1)}, buf)
    buf.seek(0)
    assert torch.load(buf)['w'].shape == (1,)
