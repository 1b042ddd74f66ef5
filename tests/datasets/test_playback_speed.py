"""PlaybackSpeedSampleFrames: the order label round trip, clip indices per
speed, reversed clips on decoded video, short-video policies, repeatable
validation, and the pretext pipeline of the motion config."""

import itertools
import math
import os.path as osp

import numpy as np
import pytest
from mmaction.datasets import VideoDataset
from mmaction.registry import TRANSFORMS
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope

from selfy_mmaction.datasets.motion import write_video
from selfy_mmaction.datasets.transforms import (
    PlaybackSpeedSampleFrames,
    label_to_permutation,
    permutation_to_label,
    speed_clip_indices,
)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BITS = 6  # frame i of a coded video shows i in binary, one stripe a bit


def _coded_video(path, num_frames, size=32):
    frames = np.zeros((num_frames, size, size, 3), np.uint8)
    for i in range(num_frames):
        for bit in range(BITS):
            if i >> bit & 1:
                frames[i, :, 5 * bit : 5 * bit + 5] = 255
    write_video(str(path), frames, fps=8)
    return str(path)


def _frame_numbers(imgs):
    return [
        sum(
            1 << bit
            for bit in range(BITS)
            if img[:, 5 * bit + 1 : 5 * bit + 4].mean() > 128
        )
        for img in imgs
    ]


def _clips(results):
    k, length = results['num_clips'], results['clip_len']
    return results['frame_inds'].reshape(k, length)


@pytest.mark.parametrize('k', [2, 3, 4, 5])
def test_label_round_trip_and_order(k):
    perms = list(itertools.permutations(range(k)))
    assert len(perms) == math.factorial(k)
    for label, perm in enumerate(perms):
        assert permutation_to_label(perm) == label
        assert label_to_permutation(label, k) == perm
    with pytest.raises(ValueError, match='not a permutation'):
        permutation_to_label([0, 0])
    with pytest.raises(ValueError, match=r'label must be in \[0, '):
        label_to_permutation(math.factorial(k), k)


def test_clip_order_recovered_from_label():
    speeds = (1, 2, 4, -1)
    t = PlaybackSpeedSampleFrames(clip_len=5, speeds=speeds)
    np.random.seed(1)
    labels = set()
    for _ in range(60):
        results = t(dict(total_frames=40, filename='v.mp4', start_index=0))
        perm = label_to_permutation(results['label'], 4)
        labels.add(results['label'])
        shown = _clips(results)
        # put the shown clips back in canonical order: shown[i] = canon[p_i]
        canonical = [shown[perm.index(j)] for j in range(4)]
        for speed, clip in zip(speeds, canonical):
            assert (np.diff(clip) == np.sign(speed) * abs(speed)).all()
            assert 0 <= clip.min() and clip.max() < 40
        assert list(results['playback_speeds']) == [speeds[p] for p in perm]
        assert results['num_clips'] == 4 and results['clip_len'] == 5
    assert len(labels) > 12  # the order is random


def test_reverse_indices_are_forward_reversed():
    for start, speed in [(0, 1), (3, 2), (7, 4)]:
        fwd = speed_clip_indices(start, speed, 6)
        np.testing.assert_array_equal(
            speed_clip_indices(start, -speed, 6), fwd[::-1]
        )
        assert fwd[0] == start and (np.diff(fwd) == speed).all()
    # looping wraps around the video
    np.testing.assert_array_equal(
        speed_clip_indices(7, 2, 4, total_frames=10), [7, 9, 1, 3]
    )


def test_reverse_clip_decodes_to_forward_clip_reversed(tmp_path):
    path = _coded_video(tmp_path / 'coded.mp4', 36)
    init = TRANSFORMS.build(dict(type='DecordInit'))
    decode = TRANSFORMS.build(dict(type='DecordDecode'))

    def decoded(inds):
        results = init(dict(filename=path, start_index=0))
        results['frame_inds'] = inds
        return np.stack(decode(results)['imgs'])

    fwd = decoded(speed_clip_indices(5, 2, 8))
    rev = decoded(speed_clip_indices(5, -2, 8))
    np.testing.assert_array_equal(rev, fwd[::-1])
    assert _frame_numbers(fwd) == list(range(5, 21, 2))

    # and through the transform: every decoded clip shows its own speed
    sample = PlaybackSpeedSampleFrames(clip_len=8, speeds=(1, 2, 4, -1))
    np.random.seed(0)
    results = decode(sample(init(dict(filename=path, start_index=0))))
    numbers = np.array(_frame_numbers(results['imgs'])).reshape(4, 8)
    np.testing.assert_array_equal(numbers, _clips(results))
    for clip, speed in zip(numbers, results['playback_speeds']):
        assert (np.diff(clip) == speed).all()


def test_short_video_policies():
    base = dict(total_frames=13, filename='short.mp4', start_index=0)
    # 4x needs 4*(5-1)+1 = 17 frames
    with pytest.raises(ValueError, match=r'short.mp4: 13 frames.*spans 17'):
        PlaybackSpeedSampleFrames(5, out_of_bound_opt='error')(dict(base))
    with pytest.warns(UserWarning, match='skipped'):
        assert PlaybackSpeedSampleFrames(5)(dict(base)) is None
    loop = PlaybackSpeedSampleFrames(5, out_of_bound_opt='loop')
    np.random.seed(0)
    for _ in range(20):
        clips = _clips(loop(dict(base)))
        assert clips.max() < 13
        for clip in clips:  # never a repeated (frozen) frame
            assert len(set(clip.tolist())) == 5
    # looping 12 frames at 4x comes back to a frame after 3 steps: skipped
    with pytest.warns(UserWarning, match='skipped'):
        assert loop(dict(base, total_frames=12)) is None


def test_dataset_draws_another_video_for_a_short_one(tmp_path):
    init_default_scope('mmaction')
    _coded_video(tmp_path / 'short.mp4', 10)
    _coded_video(tmp_path / 'long.mp4', 30)
    ann = tmp_path / 'list.txt'
    ann.write_text('short.mp4 0\nlong.mp4 1\n')
    dataset = VideoDataset(
        str(ann),
        pipeline=[
            dict(type='DecordInit'),
            dict(type='PlaybackSpeedSampleFrames', clip_len=8),
            dict(type='DecordDecode'),
        ],
        data_prefix=dict(video=str(tmp_path)),
    )
    np.random.seed(0)
    with pytest.warns(UserWarning, match='short.mp4: 10 frames'):
        sample = dataset[0]
    assert sample['filename'].endswith('long.mp4')
    assert len(sample['imgs']) == 32


def test_test_mode_is_repeatable_per_video():
    t = PlaybackSpeedSampleFrames(8, test_mode=True)
    a = t(dict(total_frames=50, filename='a.mp4'))
    b = t(dict(total_frames=50, filename='a.mp4'))
    np.testing.assert_array_equal(a['frame_inds'], b['frame_inds'])
    others = [
        t(dict(total_frames=50, filename=f'{i}.mp4'))['label']
        for i in range(10)
    ]
    assert len(set(others)) > 1


def test_subset_of_speeds_is_sorted_by_the_order():
    speeds = (1, 2, 3, 4, -1, -2)
    t = PlaybackSpeedSampleFrames(4, speeds=speeds, num_clips=3)
    np.random.seed(3)
    chosen = set()
    for _ in range(30):
        results = t(dict(total_frames=30, filename='v.mp4', start_index=1))
        perm = label_to_permutation(results['label'], 3)
        shown = list(results['playback_speeds'])
        canonical = [shown[perm.index(j)] for j in range(3)]
        assert sorted(canonical, key=speeds.index) == canonical
        assert results['frame_inds'].min() >= 1  # start_index is added
        chosen.add(tuple(canonical))
    assert len(chosen) > 3


def test_constructor_errors():
    with pytest.raises(ValueError, match='distinct and non-zero'):
        PlaybackSpeedSampleFrames(4, speeds=(1, 1, 2))
    with pytest.raises(ValueError, match='distinct and non-zero'):
        PlaybackSpeedSampleFrames(4, speeds=(0, 1))
    with pytest.raises(ValueError, match=r'num_clips must be in \[2, '):
        PlaybackSpeedSampleFrames(4, num_clips=5)
    with pytest.raises(ValueError, match='out_of_bound_opt'):
        PlaybackSpeedSampleFrames(4, out_of_bound_opt='repeat_last')
    assert PlaybackSpeedSampleFrames(4).num_classes == 24


def test_pretext_config_pipeline_on_a_motion_video(tmp_path):
    init_default_scope('mmaction')
    cfg = Config.fromfile(
        osp.join(
            REPO,
            'configs',
            'pretext',
            'speedorder_r3d18-tiny-tgn_8fx4clips-12e_motion32-pretext.py',
        )
    )
    path = _coded_video(tmp_path / 'v.mp4', 32, size=40)
    np.random.seed(0)
    for pipeline in (cfg.train_pipeline, cfg.val_pipeline):
        packed = Compose(pipeline)(
            dict(filename=path, start_index=0, label=5, modality='RGB')
        )
        assert packed['inputs'].shape == (4, 3, 8, 32, 32)
        assert 0 <= int(packed['data_samples'].gt_label) < 24
