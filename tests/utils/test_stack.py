"""The stack repairs: each test shows the failure without the repair."""
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

from selfy_mmaction.utils.stack import repair_missing_drn


def _run(code):
    return subprocess.run([sys.executable, '-c', code], capture_output=True,
                          text=True, timeout=120)


def test_drn_import_fails_without_repair_and_works_with_it():
    import mmaction
    if osp.isdir(osp.join(osp.dirname(mmaction.__file__), 'models',
                          'localizers', 'drn')):
        pytest.skip('this mmaction2 ships DRN: nothing to repair')
    plain = _run('import mmaction.models')
    assert plain.returncode != 0
    assert "No module named 'mmaction.models.localizers.drn'" in plain.stderr
    repaired = _run('import selfy_mmaction, mmaction.models; '
                    'from mmaction.registry import MODELS; '
                    "assert MODELS.get('ResNetTSM') is not None")
    assert repaired.returncode == 0, repaired.stderr


def test_drn_repair_leaves_a_fixed_mmaction_alone(tmp_path):
    os.makedirs(tmp_path / 'models' / 'localizers' / 'drn')
    assert repair_missing_drn(str(tmp_path)) is False


def _mmengine_like_checkpoint():
    hub = MessageHub.get_instance('test_stack_ckpt')
    hub.update_scalar('train/lr', 0.01)
    hub.update_scalar('train/loss', 1.5)
    hub.update_info('eta', np.float64(12.5))
    return dict(
        meta=dict(epoch=1, iter=10, seed=0, mmengine_version='0.10.7'),
        state_dict=OrderedDict(w=torch.ones(2, 2)),
        message_hub=hub.state_dict(),
        optimizer=dict(state={}, param_groups=[dict(lr=0.01, params=[0])]),
        param_schedulers=[dict(milestones={30: 1, 40: 1}, base_lrs=[0.01])])


def test_mmengine_checkpoint_needs_the_allowlist(tmp_path):
    path = str(tmp_path / 'ckpt.pth')
    torch.save(_mmengine_like_checkpoint(), path)
    code = (f'import torch\ntry:\n    torch.load({path!r})\n'
            f'except Exception as e:\n    print(type(e).__name__)')
    assert 'UnpicklingError' in _run(code).stdout  # stock torch refuses it
    ckpt = torch.load(path)  # weights-only with our allowlist
    assert torch.equal(ckpt['state_dict']['w'], torch.ones(2, 2))
    buffers = ckpt['message_hub']['log_scalars']
    assert isinstance(buffers['train/lr'], HistoryBuffer)
    assert buffers['train/loss'].current() == pytest.approx(1.5)


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
    with pytest.raises(pickle.UnpicklingError,
                       match='only HistoryBuffer statistics'):
        torch.load(path)


def test_weights_only_is_never_switched_off():
    assert 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD' not in os.environ
    buf = io.BytesIO()
    torch.save({'w': torch.zeros(1)}, buf)
    buf.seek(0)
    assert torch.load(buf)['w'].shape == (1, )


def test_cpu_distributed_repair_uses_gloo():
    if torch.cuda.is_available():
        pytest.skip('CUDA machines keep MMEngine behaviour')
    import mmengine.dist.utils as dist_utils
    assert getattr(dist_utils, '_selfy_cpu', False)
