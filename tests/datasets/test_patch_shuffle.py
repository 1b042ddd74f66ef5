import numpy as np
import pytest
from mmaction.registry import TRANSFORMS
from mmengine.registry import init_default_scope

from selfy_mmaction.datasets import TemporalPatchShuffle


def _frames(num=6, h=20, w=13, c=3, seed=0):
    rng = np.random.default_rng(seed)
    return [
        rng.integers(0, 256, (h, w, c), dtype=np.uint8) for _ in range(num)
    ]


def _cells(frames, ph, pw):
    """(F, gh, gw, ph*pw*C) patches of the whole-cell grid."""
    a = np.stack(frames)
    f, h, w, c = a.shape
    gh, gw = h // ph, w // pw
    a = a[:, : gh * ph, : gw * pw].reshape(f, gh, ph, gw, pw, c)
    return a.transpose(0, 1, 3, 2, 4, 5).reshape(f, gh, gw, -1)


def test_every_patch_stays_at_its_position_and_remainder_is_untouched():
    np.random.seed(0)
    frames = _frames()
    t = TemporalPatchShuffle(patch_size=(6, 4), prob=1, ratio=0.5)
    out = t(dict(imgs=list(frames)))['imgs']
    assert isinstance(out, list) and len(out) == 6
    assert all(o.shape == (20, 13, 3) and o.dtype == np.uint8 for o in out)
    src, dst = _cells(frames, 6, 4), _cells(out, 6, 4)  # grid 3 x 3
    moved = 0
    for r in range(3):
        for c in range(3):
            # each output frame's patch is some input frame's patch at the
            # same position, and the frames' patches are a permutation
            col_src = [bytes(p) for p in src[:, r, c]]
            col_dst = [bytes(p) for p in dst[:, r, c]]
            assert sorted(col_src) == sorted(col_dst)
            moved += col_src != col_dst
    assert 1 <= moved <= round(0.5 * 9)  # 5 positions drawn
    stacked_in, stacked_out = np.stack(frames), np.stack(out)
    # rows 18-19 and column 12 are outside the whole-cell grid
    np.testing.assert_array_equal(stacked_out[:, 18:], stacked_in[:, 18:])
    np.testing.assert_array_equal(
        stacked_out[:, :, 12:], stacked_in[:, :, 12:]
    )


def test_ratio_one_shuffles_every_position_independently():
    np.random.seed(1)
    num = 8
    # frame k is constant k: the output tells which frame each patch shows
    frames = [np.full((8, 8, 1), k, np.uint8) for k in range(num)]
    out = np.stack(
        TemporalPatchShuffle(4, prob=1, ratio=1)(dict(imgs=frames))['imgs']
    )
    sources = out[:, ::4, ::4, 0]  # (F, 2, 2): source frame per cell
    for r in range(2):
        for c in range(2):
            assert sorted(sources[:, r, c]) == list(range(num))
    # four positions, four different permutations (8! choices each)
    perms = {tuple(sources[:, r, c]) for r in range(2) for c in range(2)}
    assert len(perms) == 4
    # and each cell is a whole patch from one frame
    for k in range(num):
        for r in range(2):
            for c in range(2):
                cell = out[k, 4 * r : 4 * r + 4, 4 * c : 4 * c + 4]
                assert (cell == cell[0, 0]).all()


def test_groups_never_exchange_patches_and_arrays_stay_arrays():
    np.random.seed(2)
    frames = np.stack([np.full((4, 4, 2), k, np.uint8) for k in range(6)])
    out = TemporalPatchShuffle(2, prob=1, ratio=1, group_size=3)(
        dict(imgs=frames.copy())
    )['imgs']
    assert isinstance(out, np.ndarray) and out.shape == frames.shape
    assert set(np.unique(out[:3])) <= {0, 1, 2}
    assert set(np.unique(out[3:])) <= {3, 4, 5}


def test_prob_zero_is_identity_and_prob_is_a_per_sample_rate():
    frames = _frames(num=4, h=8, w=8)
    out = TemporalPatchShuffle(4, prob=0, ratio=1)(dict(imgs=list(frames)))[
        'imgs'
    ]
    for a, b in zip(out, frames):
        np.testing.assert_array_equal(a, b)
    np.random.seed(3)
    t = TemporalPatchShuffle(4, prob=0.3, ratio=1)
    changed = 0
    for _ in range(400):
        out = t(dict(imgs=list(frames)))['imgs']
        changed += any((a != b).any() for a, b in zip(out, frames))
    # a shuffle can leave all patches in place (prob 1/24^4): rate ~0.3
    assert 0.22 < changed / 400 < 0.38


def test_errors_and_registry():
    with pytest.raises(ValueError, match='prob and ratio'):
        TemporalPatchShuffle(prob=1.5)
    with pytest.raises(ValueError, match='not a multiple of group_size=4'):
        TemporalPatchShuffle(2, prob=1, group_size=4)(
            dict(imgs=_frames(num=6, h=4, w=4))
        )
    with pytest.raises(ValueError, match='frames of one size'):
        TemporalPatchShuffle(2)(
            dict(imgs=[np.zeros((4, 4, 3)), np.zeros((4, 6, 3))])
        )
    init_default_scope('mmaction')
    t = TRANSFORMS.build(dict(type='TemporalPatchShuffle', patch_size=8))
    assert isinstance(t, TemporalPatchShuffle) and t.patch_size == (8, 8)
