import hashlib
import os.path as osp

import decord
import numpy as np
import pytest

from selfy_mmaction.datasets import (
    MOTION_CLASSES,
    MotionDatasetSpec,
    generate_motion_dataset,
    render_clip,
)

TINY = dict(num_train_per_class=2, num_val_per_class=1, num_frames=8, size=32)


def _read_list(path):
    with open(path) as f:
        return [line.split() for line in f]


def _digest(root, lines):
    h = hashlib.sha256()
    for rel, _ in lines:
        vr = decord.VideoReader(osp.join(root, 'videos', rel))
        h.update(vr.get_batch(list(range(len(vr)))).asnumpy().tobytes())
    return h.hexdigest()


def test_generation_is_deterministic_decodable_and_balanced(tmp_path):
    spec = MotionDatasetSpec(**TINY)
    a = generate_motion_dataset(str(tmp_path / 'a'), spec)
    b = generate_motion_dataset(str(tmp_path / 'b'), spec)
    lines_a = _read_list(a['train_list'])
    assert lines_a == _read_list(b['train_list'])
    assert _digest(str(tmp_path / 'a'), lines_a) == _digest(
        str(tmp_path / 'b'), lines_a
    )
    labels = [int(label) for _, label in lines_a]
    assert sorted(set(labels)) == list(range(len(MOTION_CLASSES)))
    assert np.bincount(labels).tolist() == [2] * len(MOTION_CLASSES)
    vr = decord.VideoReader(osp.join(a['videos'], lines_a[0][0]))
    assert len(vr) == 8 and vr[0].shape == (32, 32, 3)
    with open(a['classes']) as f:
        assert f.read().split() == MOTION_CLASSES


def test_existing_dataset_is_kept_and_a_new_spec_regenerates(tmp_path):
    root = str(tmp_path)
    paths = generate_motion_dataset(root, MotionDatasetSpec(**TINY))
    mtime = osp.getmtime(paths['train_list'])
    generate_motion_dataset(root, MotionDatasetSpec(**TINY))
    assert osp.getmtime(paths['train_list']) == mtime
    generate_motion_dataset(root, MotionDatasetSpec(**dict(TINY, seed=3)))
    assert osp.getmtime(paths['train_list']) != mtime


@pytest.mark.parametrize('pair', range(len(MOTION_CLASSES) // 2))
def test_each_class_is_the_time_reversal_of_its_pair(pair):
    spec = MotionDatasetSpec(**TINY)
    forward = render_clip(2 * pair, np.random.default_rng(7), spec)
    backward = render_clip(2 * pair + 1, np.random.default_rng(7), spec)
    assert np.array_equal(forward[::-1], backward)
    # and there is motion: frames differ
    assert np.abs(forward[0].astype(int) - forward[-1].astype(int)).sum() > 0


def test_bad_class_list_is_refused(tmp_path):
    with pytest.raises(ValueError, match='time-reversal pairs'):
        generate_motion_dataset(
            str(tmp_path), MotionDatasetSpec(classes=['move_right'], **TINY)
        )
