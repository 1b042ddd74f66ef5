import json
import math
import os
import os.path as osp

import decord
import numpy as np
import pytest
from mmaction.registry import DATASETS

from selfy_mmaction.datasets import (
    SPEED_BINS,
    SUITE_CLASSES,
    MotionSuiteSpec,
    generate_motion_suite,
)
from selfy_mmaction.datasets.checked import (
    AnnotationError,
    DatasetNotPreparedError,
)
from selfy_mmaction.datasets.motion_suite import (
    _interaction_tracks,
    _translate_track,
    render_suite_clip,
    speed_bin,
    suite_clip,
    suite_shapes,
)

TINY = dict(num_train_per_class=1, num_test_per_class=1, size=32)
KEYS = {'label', 'speed', 'task', 'num_distractors', 'pan', 'occluder'}


def _read(path):
    with open(path, 'rb') as f:
        return f.read()


def test_generation_is_deterministic_with_the_documented_layout(tmp_path):
    spec = MotionSuiteSpec(**TINY)
    a = generate_motion_suite(str(tmp_path / 'a'), spec)
    b = generate_motion_suite(str(tmp_path / 'b'), spec)
    for key in ('train_list', 'test_list', 'train_meta', 'test_meta'):
        assert _read(a[key]) == _read(b[key])
    with open(a['classes']) as f:
        assert f.read().split() == SUITE_CLASSES
    for split in ('train', 'test'):
        with open(a[f'{split}_list']) as f:
            lines = [line.split() for line in f]
        with open(a[f'{split}_meta']) as f:
            metas = json.load(f)
        assert [int(label) for _, label in lines] == list(range(11))
        assert [m['filename'] for m in metas] == [rel for rel, _ in lines]
        assert all(set(m) == KEYS | {'filename'} for m in metas)
        assert {m['task'] for m in metas} == {'translate', 'interact'}
        vr = decord.VideoReader(osp.join(a['videos'], lines[0][0]))
        assert len(vr) == 8 and vr[0].shape == (32, 32, 3)
    # the same spec: kept; frames are the same on every render
    mtime = osp.getmtime(a['train_list'])
    generate_motion_suite(str(tmp_path / 'a'), spec)
    assert osp.getmtime(a['train_list']) == mtime
    for split in ('train', 'test'):
        f1, ann1 = suite_clip(spec, split, 9)
        f2, ann2 = suite_clip(spec, split, 9)
        assert np.array_equal(f1, f2) and ann1 == ann2


def test_default_clip_and_annotation():
    spec = MotionSuiteSpec()
    frames, ann = suite_clip(spec, 'train', 0)
    assert frames.shape == (8, 64, 64, 3) and frames.dtype == np.uint8
    assert set(ann) == KEYS and ann['label'] == 0
    assert len(SUITE_CLASSES) == 11 and len(spec.classes) == 11


def test_speeds_nuisances_and_bins_follow_the_spec():
    spec = MotionSuiteSpec()
    shapes = suite_shapes(spec.seed)
    for label, name in enumerate(SUITE_CLASSES):
        for seed in range(6):
            _, ann = render_suite_clip(
                label, np.random.default_rng([seed, label]), spec, shapes
            )
            if name.endswith('_slow'):
                lo, hi, bins = *spec.slow_speed, {0, 1}
            elif name.endswith('_fast'):
                lo, hi, bins = *spec.fast_speed, {2, 3}
            else:
                lo, hi, bins = *spec.interaction_speed, {0, 1, 2}
                assert ann['task'] == 'interact'
            assert lo <= ann['speed'] <= hi
            assert speed_bin(ann['speed']) in bins
            assert 0 <= ann['num_distractors'] <= 2
            assert math.hypot(*ann['pan']) <= spec.pan_speed
    assert [speed_bin(s) for s in (0, 0.99, 1, 2.5, 3, 4.4, 9)] == [
        0,
        0,
        1,
        2,
        3,
        3,
        3,
    ]
    assert len(SPEED_BINS) == 4


@pytest.mark.parametrize('direction', [(1, 0), (-1, 0), (0, 1), (0, -1)])
def test_a_fast_object_is_in_the_frame_for_at_least_3_frames(direction):
    spec = MotionSuiteSpec()
    cell = spec.size / 16
    worst = (spec.fast_speed[1] + spec.pan_speed) * cell  # px/frame
    for seed in range(20):
        track = _translate_track(
            worst * np.array(direction, float),
            np.random.default_rng(seed),
            spec,
        )
        inside = ((track >= 0) & (track < spec.size)).all(1)
        assert inside.sum() >= 3
        # the middle of the path is near the centre along the motion
        along = track[3:5].mean(0) @ np.abs(direction)
        assert abs(along - spec.size / 2) <= cell


@pytest.mark.parametrize('label', range(0, 8, 2))  # the slow translations
def test_direction_is_relative_to_the_panning_background(label):
    spec = MotionSuiteSpec(num_distractors=(0, 0), occluder_prob=0)
    cell = spec.size / 16
    shapes = suite_shapes(spec.seed)
    direction = [(1, 0), (-1, 0), (0, 1), (0, -1)][label // 2]
    for seed in range(3):
        frames, ann = render_suite_clip(
            label, np.random.default_rng(seed), spec, shapes
        )
        # objects are brighter than any background pixel (max channel 178)
        centroids = [
            np.argwhere(f.max(-1) > 195)[:, ::-1].mean(0) for f in frames
        ]
        screen = (centroids[-1] - centroids[0]) / (len(frames) - 1)
        own = screen - np.array(ann['pan']) * cell
        assert np.allclose(
            own, ann['speed'] * cell * np.array(direction), atol=0.3
        )


def test_interactions_agree_up_to_contact_and_differ_after():
    spec = MotionSuiteSpec()
    square = np.array([[-5.0, -5], [5, -5], [5, 5], [-5, 5]])
    for seed in range(20):
        tracks = {
            kind: _interaction_tracks(
                kind, np.random.default_rng(seed), spec, (square, square)
            )
            for kind in ('pass', 'bounce', 'push')
        }
        k = tracks['pass']['contact']
        assert 2 <= k <= 5
        c = {kind: t['centres'] for kind, t in tracks.items()}
        for kind in ('bounce', 'push'):
            assert tracks[kind]['contact'] == k
            assert np.array_equal(c[kind][:, : k + 1], c['pass'][:, : k + 1])
            assert not np.allclose(c[kind][:, k + 1 :], c['pass'][:, k + 1 :])
        axis = tracks['pass']['axis']
        a, b = c['pass'][0, :, axis], c['pass'][1, :, axis]
        assert abs(abs(b[k] - a[k]) - 10) < 1e-9  # touching at contact
        v_a = a[k] - a[k - 1]
        assert abs(abs(v_a) - tracks['pass']['speed'] * spec.size / 16) < 1e-9
        assert np.allclose(np.diff(a), v_a)  # pass: A goes on
        bounce = c['bounce'][0, :, axis]
        assert np.allclose(np.diff(bounce)[k:], -v_a)  # bounce: A reverses
        push = c['push'][:, :, axis]
        assert np.allclose(np.diff(push, axis=1)[:, k:], v_a)  # B with A
    # rendered: the three classes show the same frames up to the contact
    shapes = suite_shapes(spec.seed)
    firsts = set()
    for seed in range(6):
        clips = [
            render_suite_clip(
                label, np.random.default_rng(seed), spec, shapes
            )[0]
            for label in (8, 9, 10)
        ]
        same = [
            all(np.array_equal(clips[0][t], other[t]) for other in clips[1:])
            for t in range(spec.num_frames)
        ]
        first = same.index(False)
        assert all(same[:first]) and not any(same[first:])
        firsts.add(first)
    assert firsts <= {3, 4, 5, 6}  # after a contact in frames 2..5


def test_held_out_test_shapes_are_not_train_shapes():
    spec = MotionSuiteSpec()
    train, test = suite_shapes(spec.seed), suite_shapes(spec.test_seed)
    assert len(train) == len(test) == 12
    for shape in train + test:
        assert 5 <= len(shape) <= 8
        radii = np.hypot(*shape.T)
        assert radii.max() - radii.min() > 0.1  # asymmetric
    for t in test:
        assert not any(
            t.shape == s.shape and np.allclose(t, s, atol=1e-3) for s in train
        )
    # test_seed draws only the test split
    other = MotionSuiteSpec(**dict(TINY, test_seed=77))
    base = MotionSuiteSpec(**TINY)
    assert np.array_equal(
        suite_clip(base, 'train', 3)[0], suite_clip(other, 'train', 3)[0]
    )
    assert not np.array_equal(
        suite_clip(base, 'test', 3)[0], suite_clip(other, 'test', 3)[0]
    )


def test_bad_specs_are_refused(tmp_path):
    with pytest.raises(ValueError, match='test_seed must differ'):
        generate_motion_suite(
            str(tmp_path), MotionSuiteSpec(seed=5, test_seed=5, **TINY)
        )
    with pytest.raises(ValueError, match='classes must be'):
        generate_motion_suite(
            str(tmp_path), MotionSuiteSpec(classes=['spin'], **TINY)
        )


def test_dataset_builds_and_carries_speed_bin_and_task(tmp_path):
    root = tmp_path / 'suite'
    train = DATASETS.build(
        dict(
            type='MotionSuiteDataset',
            ann_file=str(root / 'suite_train_list_videos.txt'),
            spec=TINY,
            pipeline=[],
        )
    )
    assert len(train) == 11
    with open(root / 'suite_train_meta.json') as f:
        metas = json.load(f)
    for info, meta in zip(train.load_data_list(), metas):
        assert osp.isfile(info['filename'])
        assert info['speed'] == meta['speed']
        lo, hi = SPEED_BINS[info['speed_bin']]
        assert lo <= info['speed'] < hi
        assert info['task'] == (
            'translate' if info['label'] < 8 else 'interact'
        )
    test_cfg = dict(
        type='MotionSuiteDataset',
        ann_file=str(root / 'suite_test_list_videos.txt'),
        spec=TINY,
        data_prefix=dict(video=str(root / 'videos')),
        pipeline=[],
        test_mode=True,
    )
    meta_path = root / 'suite_test_meta.json'
    text = meta_path.read_text()
    meta_path.write_text(text.replace('test_00004', 'test_99999'))
    with pytest.raises(AnnotationError, match='suite_test_meta.json'):
        DATASETS.build(test_cfg)
    os.remove(meta_path)
    with pytest.raises(DatasetNotPreparedError, match='suite_test_meta.json'):
        DATASETS.build(test_cfg)


def test_class_strip_shows_the_first_train_clip_of_every_class(tmp_path):
    from selfy_mmaction.visualization.strips import draw_suite_strip

    spec = MotionSuiteSpec(**TINY)
    path = tmp_path / 'strip.png'
    strip = draw_suite_strip(str(path), spec)
    assert strip.shape == (11, 8, 32, 32, 3) and path.stat().st_size > 0
    assert np.array_equal(strip[9], suite_clip(spec, 'train', 9)[0][..., ::-1])
