"""selfy_mmaction.deployment.onnx_export: SELFY-TSM-R18 and the baseline
families' motion R18 configs export to standard ONNX ops and onnxruntime
reproduces their logits (every block active: no zero-initialised residual
left); the command line: tests/tools/test_export_onnx.py."""

import os.path as osp

import onnx
import pytest
import torch
from torch.nn.modules.batchnorm import _BatchNorm

pytest.importorskip('onnxruntime')

from selfy_mmaction.deployment import onnx_export as eo  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _config(path):
    return osp.join(REPO, 'configs', path)


SELFY = _config('selfy_tsm_r18_motion.py')
TSM = _config('tsm/tsm_r18_1x1x8-4e_motion-rgb.py')

CASES = [
    pytest.param(SELFY, (8, 3, 32, 32), id='selfy-tsm-r18'),
    pytest.param(SELFY, (2, 8, 3, 32, 32), id='selfy-tsm-r18-batch2'),
    pytest.param(TSM, (8, 3, 32, 32), id='tsm'),
    pytest.param(
        _config('stm/stm_r18_1x1x8-4e_motion-rgb.py'), (8, 3, 32, 32), id='stm'
    ),
    pytest.param(
        _config('msnet/msnet_r18_1x1x8-4e_motion-rgb.py'),
        (8, 3, 32, 32),
        id='msnet',
    ),
    pytest.param(
        _config('motion/tea-me_tsm-r18_1x1x8-4e_motion-rgb.py'),
        (8, 3, 32, 32),
        id='tea-me',
    ),
    # 8 snippets of 5 frames; the long-term TDM pools 2x2 in layer4: 64 px
    pytest.param(
        _config('motion/tdn_r18_5x1x8-4e_motion-rgb.py'),
        (40, 3, 64, 64),
        id='tdn',
    ),
    pytest.param(
        _config('tada/tada2d_r18_1x1x8-4e_motion-rgb.py'),
        (8, 3, 32, 32),
        id='tada2d',
    ),  # see NOISE
]


def _activate(model, shape, noise=0.05):
    """Perturb every parameter (zero-initialised residuals and gates start
    to matter), random BN affines, then BN statistics of one random batch
    so the logits stay O(1)."""
    gen = torch.Generator().manual_seed(0)
    wrapper = eo.ScoreModel(model, frames=len(shape) == 4)
    norms = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=gen) * noise)
        for bn in norms:
            bn.weight.uniform_(0.5, 1.5, generator=gen)
            bn.reset_running_stats()
            bn.momentum = None  # running stats = this batch's
        model.train()
        wrapper(torch.randn(shape, generator=gen))
        model.eval()
    for bn in norms:
        bn.momentum = 0.1


#: Parameter noise per case (default 0.05): TAda2D's routing multiplies every
#: conv's input by 1 + routing(pooled features): noise 0.05 on its zero-init
#: last conv gave logits of 1.8e4, 0.01 of 36 (both within 7e-6 relative).
NOISE = {'tada2d': 0.002}


@pytest.mark.parametrize('config, shape', CASES)
def test_export_matches_pytorch_in_onnxruntime(
    config, shape, tmp_path, request
):
    model = eo.build_model(config)
    _activate(model, shape, NOISE.get(request.node.callspec.id, 0.05))
    out = str(tmp_path / 'model.onnx')
    wrapper = eo.export(model, shape, out)
    result = eo.verify(wrapper, out, shape)

    assert result['max_abs_diff'] <= 1e-4
    assert 0.1 < result['max_abs_logit'] < 1e3
    graph = onnx.load(out).graph
    assert [
        d.dim_value for d in graph.input[0].type.tensor_type.shape.dim
    ] == list(shape)
    assert all(node.domain in ('', 'ai.onnx') for node in graph.node)


def test_bad_shape_and_checkpoint(tmp_path):
    model = eo.build_model(SELFY)
    with pytest.raises(
        ValueError,
        match=r'shape must be N C H W.*got '
        r'\(8, 3, 32\)',
    ):
        eo.export(model, (8, 3, 32), str(tmp_path / 'm.onnx'))
    with pytest.raises(
        ValueError,
        match=r'dimension 1 is the 3 image '
        r'channels of the backbone, got 1',
    ):
        eo.export(model, (8, 1, 32, 32), str(tmp_path / 'm.onnx'))
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        eo.build_model(SELFY, str(tmp_path / 'missing.pth'))
