"""Temporal patch shuffling, after MSTAT (Tang et al., IEEE TMM 2023), whose
abstract names "temporal patch shuffling" as a robustness augmentation
(no code public; the exact recipe below is ours).

It breaks the temporal order at the shuffled positions, so it is opt-in:
never put it in a pipeline where order matters (Something-Something,
the motion dataset's time-reversal pairs) unless that is the point.
"""

from typing import Optional, Tuple, Union

import numpy as np
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform


@TRANSFORMS.register_module()
class TemporalPatchShuffle(BaseTransform):
    """Shuffle image patches across time at fixed spatial positions.

    Each frame is cut into a grid of ``patch_size`` cells (the top-left
    ``floor(H/ph) x floor(W/pw)`` cells; a remainder strip at the bottom or
    right is never touched). With probability ``prob`` a sample is
    shuffled: ``round(ratio * cells)`` grid positions are drawn without
    replacement, and at each of them the frames' patches are permuted by a
    random permutation of the frames (one permutation per position and
    group). Every patch therefore stays at its spatial position and inside
    its group of frames; only which frame shows it changes. Randomness is
    NumPy's global generator (seeded per worker by the data loader).

    Place it after the crop and resize steps (so the grid matches the
    backbone's patches, e.g. ``patch_size=16`` for ViT-B/16) and before
    ``FormatShape``.

    Required keys: ``imgs`` (a list of ``(H, W, C)`` frames of one size, or
    an ``(F, H, W, C)`` array). Modified keys: ``imgs`` (same type, shape
    and dtype).

    Args:
        patch_size (int | tuple[int, int]): Cell ``(ph, pw)``. Defaults to
            16.
        prob (float): Probability that a sample is shuffled. Defaults to 0.5.
        ratio (float): Fraction of grid positions shuffled in a shuffled
            sample, in ``[0, 1]``. Defaults to 0.5.
        group_size (int, optional): Shuffle within consecutive groups of
            this many frames (e.g. ``clip_len`` of 3D multi-clip sampling);
            the frame count must be a multiple of it. None: all frames of
            the sample form one group (TSN-style segments). Defaults to None.
    """

    def __init__(
        self,
        patch_size: Union[int, Tuple[int, int]] = 16,
        prob: float = 0.5,
        ratio: float = 0.5,
        group_size: Optional[int] = None,
    ):
        ph, pw = (
            (patch_size, patch_size)
            if isinstance(patch_size, int)
            else tuple(patch_size)
        )
        if ph < 1 or pw < 1:
            raise ValueError(f'patch_size must be positive, got {patch_size}')
        if not 0 <= prob <= 1 or not 0 <= ratio <= 1:
            raise ValueError(
                f'prob and ratio must be in [0, 1], got '
                f'prob={prob}, ratio={ratio}'
            )
        if group_size is not None and group_size < 1:
            raise ValueError(
                f'group_size must be >= 1 or None, got {group_size}'
            )
        self.patch_size = (ph, pw)
        self.prob = prob
        self.ratio = ratio
        self.group_size = group_size

    def transform(self, results: dict) -> dict:
        imgs = results['imgs']
        if len({np.shape(f) for f in imgs}) > 1:
            raise ValueError(
                f'TemporalPatchShuffle needs frames of one size, got '
                f'{sorted({np.shape(f) for f in imgs})}'
            )
        frames = np.stack(imgs) if isinstance(imgs, list) else imgs
        if frames.ndim != 4:
            raise ValueError(
                f'TemporalPatchShuffle expects (H, W, C) frames,'
                f' got an array of shape {frames.shape}'
            )
        num = frames.shape[0]
        group = num if self.group_size is None else self.group_size
        if num % group:
            raise ValueError(
                f'TemporalPatchShuffle: {num} frames are not a '
                f'multiple of group_size={group}'
            )
        if np.random.rand() >= self.prob:
            return results
        ph, pw = self.patch_size
        gh, gw = frames.shape[1] // ph, frames.shape[2] // pw
        count = int(round(self.ratio * gh * gw))
        out = frames.copy()
        for start in range(0, num, group):
            cells = np.random.choice(gh * gw, count, replace=False)
            for cell in cells:
                r, c = divmod(int(cell), gw)
                rows = slice(r * ph, (r + 1) * ph)
                cols = slice(c * pw, (c + 1) * pw)
                order = start + np.random.permutation(group)
                out[start : start + group, rows, cols] = frames[
                    order, rows, cols
                ]
        results['imgs'] = list(out) if isinstance(imgs, list) else out
        return results

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(patch_size={self.patch_size}, '
            f'prob={self.prob}, ratio={self.ratio}, '
            f'group_size={self.group_size})'
        )
