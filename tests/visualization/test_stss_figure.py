"""selfy_mmaction.visualization.stss: the STSS of a SELFY recognizer on a
generated motion clip, checked against the block's input recomputed by hand,
the soft-argmax against a float64 softmax, and clear errors (the command
line: tests/tools/test_visualize_stss.py)."""

import os.path as osp

import numpy as np
import pytest
import torch
from mmaction.apis import init_recognizer
from mmengine.config import Config
from PIL import Image

from selfy_mmaction.datasets.motion import (
    MotionDatasetSpec,
    render_clip,
    write_video,
)
from selfy_mmaction.ops import l2_normalize, stss
from selfy_mmaction.visualization import stss as vs

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

SELFY = osp.join(REPO, 'configs', 'selfy_tsm_r18_motion.py')
TSM = osp.join(REPO, 'configs', 'tsm', 'tsm_r18_1x1x8-4e_motion-rgb.py')


@pytest.fixture(scope='module')
def clip(tmp_path_factory):
    """A 'move_right' clip of the motion dataset as mp4."""
    spec = MotionDatasetSpec()
    path = str(tmp_path_factory.mktemp('clip') / 'move_right.mp4')
    write_video(path, render_clip(0, np.random.default_rng(3), spec), spec.fps)
    return path


def _selfy_cfg(window=(5, 9, 9), dilation=(1, 1)):
    cfg = Config.fromfile(SELFY)
    cfg.model.backbone.blocks[0].cfg.update(window=window, dilation=dilation)
    return cfg


def _block_input_by_hand(model, video):
    """The features after layer2 of clip 0, without hooks."""
    data = model.data_preprocessor(vs.load_clip(model, video), False)
    frames = data['inputs'].flatten(0, 1)
    backbone = model.backbone
    with torch.no_grad():
        return backbone.layer2(backbone.layer1(backbone.forward_stem(frames)))


@pytest.mark.parametrize(
    'window, dilation', [((5, 9, 9), (1, 1)), ((3, 5, 7), (1, 2))]
)
def test_figure_and_numbers_match_a_recomputation(
    clip, tmp_path, window, dilation
):
    cfg = _selfy_cfg(window, dilation)
    model = init_recognizer(cfg, None, device='cpu')
    for p in model.parameters():  # non-trivial weights
        p.data.normal_(0, 0.3)
    model.eval()
    out = str(tmp_path / 'stss.png')
    result = vs.compute(
        model, clip, [(20, 10), (47, 0)], frame=2, temperature=0.05
    )
    vs.draw(result, out, vs.class_names(cfg))

    length, u, v = window
    assert result['maps'].shape == (2, length, u, v)
    assert result['cells'] == [(1, 2), (0, 5)]  # 48 px -> 6x6 cells
    # the same numbers from the block's input recomputed without hooks
    transformation = model.backbone.stage_blocks.layer2[0].stss_transformation
    x = _block_input_by_hand(model, clip)
    with torch.no_grad():
        expected = stss(
            l2_normalize(transformation.downsample(x).view(1, 8, -1, 6, 6)),
            window,
            dilation,
        )
    for k, (r, c) in enumerate(result['cells']):
        torch.testing.assert_close(
            result['maps'][k], expected[0, 2, :, :, :, r, c]
        )
    # soft-argmax == expectation of the offsets under a float64 softmax
    maps = result['maps'].double().flatten(2)
    prob = torch.softmax(maps / 0.05, dim=2)
    rows = ((torch.arange(u) - u // 2) * dilation[0]).double()
    cols = ((torch.arange(v) - v // 2) * dilation[1]).double()
    expected_dx = (prob * cols.repeat(u)).sum(2)
    expected_dy = (prob * rows.repeat_interleave(v)).sum(2)
    torch.testing.assert_close(
        result['motion'][..., 0].double(), expected_dx, rtol=0, atol=1e-5
    )
    torch.testing.assert_close(
        result['motion'][..., 1].double(), expected_dy, rtol=0, atol=1e-5
    )
    assert result['motion'].abs().max() > 0.1  # not a trivial zero
    # corner cell: window rows above the map and columns right of it
    inside = result['inside'][1]
    assert not inside[0].any() and not inside[:, -1].any()
    assert inside[u // 2 :, v // 2].all()
    assert result['valid'] == [
        2 + dt in range(8) for dt in range(-(length // 2), length // 2 + 1)
    ]
    image = Image.open(out)
    assert image.mode == 'P' and image.size[0] > image.size[1] > 100


def test_motion_from_stss_reads_a_known_translation():
    """Features moving 2 columns right and 1 row down per frame: the
    soft-argmax finds (dx, dy) = (2 dt, dt) for every temporal offset dt
    (window columns dilated by 2)."""
    base = torch.randn(1, 16, 20, 24)
    frames = []
    for t in range(5):
        shifted = torch.zeros_like(base)
        shifted[..., : 20 - 4 + t, 2 * t :] = base[..., 4 - t :, : 24 - 2 * t]
        frames.append(shifted)
    x = l2_normalize(torch.stack(frames, 1))
    window, dilation = (5, 5, 5), (1, 2)
    motion = vs.motion_from_stss(
        stss(x, window, dilation), window, dilation, temperature=0.01
    )
    expected = torch.tensor([[2.0 * dt, dt] for dt in range(-2, 3)])
    torch.testing.assert_close(
        motion[0, 2, :, :, 8, 10], expected, rtol=0, atol=1e-3
    )


def test_default_points_are_the_strongest_feature_change():
    score = torch.zeros(6, 6)
    score[1, 1], score[1, 2], score[4, 4], score[0, 5] = 5, 4, 3, 2
    # (1, 2) is next to (1, 1): suppressed
    assert vs.strongest_points(score, 3) == [(1, 1), (4, 4), (0, 5)]


def test_clear_errors(clip):
    tsm = init_recognizer(Config.fromfile(TSM), None, device='cpu')
    with pytest.raises(ValueError, match='has no SELFYBlock'):
        vs.compute(tsm, clip)
    model = init_recognizer(_selfy_cfg(), None, device='cpu')
    with pytest.raises(
        ValueError,
        match=r"layer 'backbone.layer2' is not a "
        r"SELFYBlock.*\['backbone.stage_blocks.layer2.0'\]",
    ):
        vs.compute(model, clip, layer='backbone.layer2')
    with pytest.raises(
        ValueError,
        match=r'point \(48, 3\) is outside the '
        r'48x48 input frame',
    ):
        vs.compute(model, clip, points=[(48, 3)])
    with pytest.raises(ValueError, match=r'frame must be in \[0, 8\).*got 8'):
        vs.compute(model, clip, frame=8)
    with pytest.raises(FileNotFoundError, match='nope.mp4'):
        vs.compute(model, 'nope.mp4')
