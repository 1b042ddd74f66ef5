"""tools/deployment/export_onnx.py: the command line loads the checkpoint,
writes the file, prints the verification and exits when it fails (the export
itself: tests/deployment/test_onnx_export.py)."""

import importlib.util
import os.path as osp

import numpy as np
import pytest
import torch

pytest.importorskip('onnxruntime')

from selfy_mmaction.deployment.onnx_export import ScoreModel  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TSM = osp.join(REPO, 'configs', 'tsm', 'tsm_r18_1x1x8-4e_motion-rgb.py')
_spec = importlib.util.spec_from_file_location(
    'export_onnx_cli', osp.join(REPO, 'tools', 'deployment', 'export_onnx.py')
)
eo = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(eo)


def test_cli_exports_the_checkpoint_and_verifies(tmp_path, capsys):
    model = eo.build_model(TSM)
    with torch.no_grad():
        model.cls_head.fc_cls.weight.normal_(0, 1)  # logits not all ~0
    checkpoint = str(tmp_path / 'model.pth')
    torch.save(dict(state_dict=model.state_dict()), checkpoint)
    out = str(tmp_path / 'model.onnx')
    result = eo.main(
        [
            TSM,
            checkpoint,
            '--shape',
            '8',
            '3',
            '32',
            '32',
            '--out',
            out,
            '--verify',
        ]
    )
    assert result['max_abs_diff'] <= 1e-4
    printed = capsys.readouterr().out
    assert f'wrote {out}' in printed and 'input (8, 3, 32, 32)' in printed
    assert 'max abs logit difference' in printed
    # the file holds the checkpoint's weights, not a fresh initialisation
    import onnxruntime as ort

    inputs = torch.randn(8, 3, 32, 32)
    with torch.no_grad():
        expected = ScoreModel(model, frames=True).eval()(inputs).numpy()
    session = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    (actual,) = session.run(None, {'inputs': inputs.numpy()})
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-4)


def test_verification_failure_exits(tmp_path, monkeypatch):
    monkeypatch.setattr(
        eo, 'verify', lambda *args: dict(max_abs_diff=2e-4, max_abs_logit=1.0)
    )
    with pytest.raises(
        SystemExit,
        match=r'max abs difference 0.0002 > '
        r'0.0001',
    ):
        eo.main(
            [
                TSM,
                '--shape',
                '8',
                '3',
                '32',
                '32',
                '--out',
                str(tmp_path / 'm.onnx'),
                '--verify',
            ]
        )
