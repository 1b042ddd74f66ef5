"""MMAction2's Grad-CAM (``mmaction.utils.GradCAM`` and the stock
``tools/visualizations/vis_cam.py`` shipped in the wheel) on a SELFY-TSM-R18
recognizer with a real video."""

import os
import os.path as osp
import subprocess
import sys

import mmaction
import pytest
import torch
from mmaction.apis import init_recognizer
from mmaction.utils import GradCAM
from mmengine.config import Config

from selfy_mmaction.visualization.stss import load_clip

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SELFY = osp.join(REPO, 'configs', 'selfy_tsm_r18_motion.py')
VIS_CAM = osp.join(
    osp.dirname(mmaction.__file__),
    '.mim',
    'tools',
    'visualizations',
    'vis_cam.py',
)


@pytest.fixture(scope='module')
def model():
    """SELFY-TSM-R18 (48 px, 8 frames) whose SELFY block is active (its
    zero-initialised last BN randomised)."""
    model = init_recognizer(Config.fromfile(SELFY), None, device='cpu')
    last_bn = model.backbone.stage_blocks.layer2[0].stss_integration.upsample
    last_bn.norm.weight.data.normal_(0, 1)
    return model


SELFY_LAYER = 'backbone/stage_blocks/layer2/0'


@pytest.mark.parametrize(
    'layer',
    [
        'backbone/layer4/1/relu',
        SELFY_LAYER,
        # layers of the block: its fast path steps aside for hooked layers
        f'{SELFY_LAYER}/stss_transformation/downsample',
        f'{SELFY_LAYER}/stss_integration/conv3_fuse',
        f'{SELFY_LAYER}/stss_integration/upsample',
    ],
)
def test_gradcam_on_selfy_recognizer(model, testdata_dir, layer):
    data = load_clip(model, osp.join(testdata_dir, 'test.mp4'))
    cam = GradCAM(model, layer)
    heat, preds = cam._calculate_localization_map(data, use_labels=False)
    assert heat.shape == (1, 8, 48, 48) and preds.shape == (1, 8)
    assert torch.isfinite(heat).all()
    assert heat.min() == 0 and heat.max() > 0.99 and heat.std() > 0.05
    blended, _ = cam(data)
    assert blended.shape == (1, 8, 48, 48, 3)

    # the gradient GradCAM's (non-full) backward hook saw is the gradient of
    # the top score w.r.t. the layer's output
    module = model
    for name in layer.split('/'):
        module = module._modules[name]
    kept = {}

    def keep(mod, args, out):
        out.retain_grad()
        kept['out'] = out

    handle = module.register_forward_hook(keep)
    try:
        model.zero_grad()
        results = model.test_step(data)
        results[0].pred_score.max().backward()
    finally:
        handle.remove()
    assert kept['out'].grad.abs().max() > 0
    torch.testing.assert_close(cam.target_gradients, kept['out'].grad)


def _vis_cam(args, tmp_path, video):
    model = init_recognizer(Config.fromfile(SELFY), None, device='cpu')
    checkpoint = str(tmp_path / 'selfy.pth')
    torch.save(dict(state_dict=model.state_dict()), checkpoint)
    env = dict(os.environ, OMP_NUM_THREADS='1')
    return subprocess.run(
        [
            sys.executable,
            VIS_CAM,
            SELFY,
            checkpoint,
            video,
            '--device',
            'cpu',
            '--target-layer-name',
            'backbone/layer4/1/relu',
            *args,
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_stock_vis_cam_script_runs_our_config(tmp_path, testdata_dir):
    """The wheel's vis_cam.py loads the plugin through the config's
    custom_imports and runs Grad-CAM end to end (no output file: writing
    one needs moviepy)."""
    run = _vis_cam([], tmp_path, osp.join(testdata_dir, 'test.mp4'))
    assert run.returncode == 0, run.stderr[-3000:]


def test_stock_vis_cam_script_writes_a_gif(tmp_path, testdata_dir):
    pytest.importorskip(
        'moviepy',
        reason='vis_cam.py writes files with moviepy, which is not installed',
    )
    out = tmp_path / 'cam.gif'
    run = _vis_cam(
        ['--out-filename', str(out)],
        tmp_path,
        osp.join(testdata_dir, 'test.mp4'),
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert out.stat().st_size > 0
