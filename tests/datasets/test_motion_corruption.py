import math

import numpy as np
import pytest
from mmaction.registry import TRANSFORMS

from selfy_mmaction.datasets import MotionCorruption
from selfy_mmaction.datasets.transforms import (
    CORRUPTION_LEVELS,
    motion_blur_kernel,
)

KINDS = tuple(CORRUPTION_LEVELS)


def _clip(value=None, frames=8, size=40, seed=0):
    rng = np.random.default_rng(seed)
    if value is None:
        imgs = rng.integers(1, 255, (frames, size, size, 3))
    else:
        imgs = np.full((frames, size, size, 3), value)
    return [img.astype(np.uint8) for img in imgs]


def _apply(kind, severity, imgs, name='a.mp4', seed=0):
    t = TRANSFORMS.build(
        dict(type='MotionCorruption', kind=kind, severity=severity, seed=seed)
    )
    return t(dict(imgs=[img.copy() for img in imgs], filename=name))['imgs']


@pytest.mark.parametrize('kind', KINDS)
def test_every_kind_is_deterministic_per_clip(kind):
    imgs = _clip()
    a = _apply(kind, 3, imgs)
    assert len(a) == len(imgs) and a[0].dtype == np.uint8
    assert all(x.shape == y.shape for x, y in zip(a, imgs))
    assert any(not np.array_equal(x, y) for x, y in zip(a, imgs))
    b = _apply(kind, 3, imgs)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    if kind != 'brightness':  # the only kind without a random draw
        names = [_apply(kind, 3, imgs, name=f'{i}.mp4') for i in range(4)]
        assert any(
            not all(np.array_equal(x, y) for x, y in zip(a, other))
            for other in names
        )


@pytest.mark.parametrize('severity', range(1, 6))
def test_occlusion_covers_the_area_of_its_severity(severity):
    imgs = _clip()
    out = _apply('occlusion', severity, imgs)
    changed = np.stack(
        [(x != y).any(-1) for x, y in zip(out, imgs)]
    )  # (T, H, W)
    assert (changed == changed[0]).all()  # static
    rows, cols = np.nonzero(changed[0])
    box = (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)
    fraction = CORRUPTION_LEVELS['occlusion'][severity - 1]
    assert changed[0].sum() == box  # one rectangle
    assert abs(box / 40**2 - fraction) < 0.02


@pytest.mark.parametrize('severity', range(1, 6))
def test_motion_blur_kernel_has_the_length_of_its_severity(severity):
    length = CORRUPTION_LEVELS['motion_blur'][severity - 1]
    for angle in np.linspace(0, math.pi, 7):
        kernel = motion_blur_kernel(length, angle)
        assert kernel.shape == (length, length)
        assert abs(kernel.sum() - 1) < 1e-6
        rows, cols = np.nonzero(kernel)
        span = math.hypot(rows.max() - rows.min(), cols.max() - cols.min())
        # the line's length, up to rounding each end to a pixel
        assert abs(span - (length - 1)) <= math.sqrt(2)
    # a point spreads over a line of that length; a flat frame stays flat
    point = np.zeros((1, 31, 31, 3), np.uint8)
    point[0, 15, 15] = 255
    out = _apply('motion_blur', severity, list(point))[0]
    assert 2 <= np.count_nonzero(out[..., 0]) <= length
    flat = _apply('motion_blur', severity, _clip(value=90))
    assert all((f == 90).all() for f in flat)


@pytest.mark.parametrize('severity', range(1, 6))
def test_gaussian_noise_has_the_sigma_of_its_severity(severity):
    imgs = _clip(value=128, size=64)
    out = _apply('gaussian_noise', severity, imgs)
    noise = np.stack(out).astype(float) - 128
    sigma = CORRUPTION_LEVELS['gaussian_noise'][severity - 1]
    assert abs(noise.mean()) < 1
    assert abs(noise.std() / sigma - 1) < 0.05


@pytest.mark.parametrize('severity', range(1, 6))
def test_brightness_adds_its_fraction_of_255_clipped(severity):
    imgs = _clip()
    out = _apply('brightness', severity, imgs)
    offset = round(CORRUPTION_LEVELS['brightness'][severity - 1] * 255)
    for x, y in zip(out, imgs):
        assert np.array_equal(x, np.minimum(y.astype(int) + offset, 255))


@pytest.mark.parametrize('severity', range(1, 6))
def test_frame_drop_repeats_frames_but_keeps_the_count_and_frame_0(severity):
    imgs = _clip()
    for name in ('a.mp4', 'b.mp4', 'c.mp4'):
        out = _apply('frame_drop', severity, imgs, name=name)
        assert len(out) == len(imgs)
        assert np.array_equal(out[0], imgs[0])
        repeated = [np.array_equal(out[i], out[i - 1]) for i in range(1, 8)]
        assert sum(repeated) == severity
        kept = [np.array_equal(o, i) for o, i in zip(out, imgs)]
        assert [not r for r in repeated] == kept[1:]
    # more drops than frames after the first: all become frame 0
    out = _apply('frame_drop', 5, imgs[:3])
    assert len(out) == 3 and all(np.array_equal(o, imgs[0]) for o in out)


@pytest.mark.parametrize(
    'args, match',
    [
        (dict(kind='occlusion', severity=0), 'severity must be'),
        (dict(kind='occlusion', severity=6), 'severity must be'),
        (dict(kind='occlusion', severity=2.0), 'severity must be'),
        (dict(kind='fog', severity=1), 'kind must be one of'),
    ],
)
def test_bad_kind_or_severity_is_refused(args, match):
    with pytest.raises(ValueError, match=match) as err:
        MotionCorruption(**args)
    if 'kind' in match:
        assert all(kind in str(err.value) for kind in KINDS)


def test_repr_shows_the_args():
    t = MotionCorruption('frame_drop', 2, seed=3)
    assert repr(t) == "MotionCorruption(kind='frame_drop', severity=2, seed=3)"


def test_runs_in_a_decord_pipeline_before_format_shape(tmp_path):
    from mmengine.dataset import Compose
    from mmengine.registry import init_default_scope

    from selfy_mmaction.datasets import MotionSuiteSpec, generate_motion_suite

    paths = generate_motion_suite(
        str(tmp_path),
        MotionSuiteSpec(num_train_per_class=1, num_test_per_class=0, size=32),
    )
    init_default_scope('mmaction')
    pipeline = Compose(
        [
            dict(type='DecordInit'),
            dict(type='SampleFrames', clip_len=1, num_clips=8, test_mode=True),
            dict(type='DecordDecode'),
            dict(type='MotionCorruption', kind='frame_drop', severity=3),
            dict(type='FormatShape', input_format='NCHW'),
        ]
    )
    video = f'{paths["videos"]}/train/train_00000.mp4'
    out = pipeline(
        dict(filename=video, label=0, start_index=0, modality='RGB')
    )
    imgs = out['imgs']  # (8, 3, 32, 32)
    assert imgs.shape == (8, 3, 32, 32)
    repeats = [np.array_equal(imgs[i], imgs[i - 1]) for i in range(1, 8)]
    assert sum(repeats) >= 3
