"""Parameter-free shifts of channel groups in time and space (TSM, STSM):
a convolution whose sparse kernel has one 1 per channel, done by slicing."""

from typing import Sequence, Tuple

import torch

from .layout import to_ntchw


def _axis_slices(offset: int, length: int):
    """(destination, source) slices so that ``out[i] = x[i + offset]``."""
    if offset >= 0:
        return slice(0, max(length - offset, 0)), slice(offset, length)
    return slice(-offset, length), slice(0, max(length + offset, 0))


def spatiotemporal_shift(
    x: torch.Tensor,
    num_segments: int,
    groups: Sequence[Tuple[int, Tuple[int, int, int]]],
) -> torch.Tensor:
    """Shift consecutive channel groups by whole steps in ``(T, H, W)``.

    Group ``i`` takes the next ``groups[i][0]`` channels and reads
    ``x[t + dt, h + dh, w + dw]`` for its offset ``(dt, dh, dw)``, zero where
    that leaves the clip or the frame; channels after the last group are
    copied. ``groups=[(C//8, (1, 0, 0)), (C//8, (-1, 0, 0))]`` is MMAction2's
    ``TemporalShift.shift(x, T, shift_div=8)``.

    Args:
        x (Tensor): ``(N*T, C, H, W)``.
        num_segments (int): ``T``.
        groups (Sequence): ``(channels, (dt, dh, dw))`` per group.

    Returns:
        Tensor: ``(N*T, C, H, W)``.
    """
    x5 = to_ntchw(x, num_segments, 'spatiotemporal_shift')
    _, t, c, h, w = x5.shape
    used = sum(n for n, _ in groups)
    if any(n < 0 for n, _ in groups) or used > c:
        raise ValueError(
            f'shift groups take {[n for n, _ in groups]} '
            f'channels, more than the {c} channels of the '
            f'input (or a negative count)'
        )
    out = torch.zeros_like(x5)
    start = 0
    for n, offset in groups:
        if len(offset) != 3:
            raise ValueError(
                f'each shift offset is (dt, dh, dw), got {offset}'
            )
        (t_dst, t_src), (h_dst, h_src), (w_dst, w_src) = (
            _axis_slices(d, size) for d, size in zip(offset, (t, h, w))
        )
        chans = slice(start, start + n)
        out[:, t_dst, chans, h_dst, w_dst] = x5[:, t_src, chans, h_src, w_src]
        start += n
    out[:, :, start:] = x5[:, :, start:]
    return out.view_as(x)
