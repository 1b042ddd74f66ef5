"""Layout helpers between Recognizer2D's ``(N*T, C, H, W)`` and ``(N, C, T, H, W)``."""

import torch


def check_segments(
    x: torch.Tensor, num_segments: int, where: str = 'input'
) -> int:
    """Return ``N`` for a ``(N*T, ...)`` tensor, or raise a clear error.

    Args:
        x (Tensor): Tensor whose first dimension is ``N*T``.
        num_segments (int): ``T``.
        where (str): Name of the caller, used in the message.
    """
    if num_segments < 1:
        raise ValueError(
            f'{where}: num_segments must be >= 1, got {num_segments}'
        )
    if x.shape[0] % num_segments != 0:
        raise ValueError(
            f'{where}: batch dimension {x.shape[0]} of input shape '
            f'{tuple(x.shape)} is not a multiple of num_segments='
            f'{num_segments} (expected N*{num_segments} frames)'
        )
    return x.shape[0] // num_segments


def to_5d(
    x: torch.Tensor, num_segments: int, where: str = 'input'
) -> torch.Tensor:
    """``(N*T, C, H, W)`` -> ``(N, C, T, H, W)``."""
    if x.dim() != 4:
        raise ValueError(
            f'{where}: expected a 4-D (N*T, C, H, W) tensor, '
            f'got shape {tuple(x.shape)}'
        )
    n = check_segments(x, num_segments, where)
    return x.view(n, num_segments, *x.shape[1:]).transpose(1, 2)


def to_4d(x: torch.Tensor) -> torch.Tensor:
    """``(N, C, T, H, W)`` -> ``(N*T, C, H, W)`` (contiguous)."""
    n, c, t, h, w = x.shape
    return x.transpose(1, 2).reshape(n * t, c, h, w)


def to_ntchw(
    x: torch.Tensor, num_segments: int, where: str = 'input'
) -> torch.Tensor:
    """``(N*T, C, H, W)`` -> ``(N, T, C, H, W)`` (a view)."""
    if x.dim() != 4:
        raise ValueError(
            f'{where}: expected a 4-D (N*T, C, H, W) tensor, '
            f'got shape {tuple(x.shape)}'
        )
    n = check_segments(x, num_segments, where)
    return x.view(n, num_segments, *x.shape[1:])


def split_snippets(
    x: torch.Tensor, num_segments: int, snippet_len: int, where: str = 'input'
) -> torch.Tensor:
    """``(N*T*L, C, H, W)`` -> ``(N*T, L, C, H, W)`` (a view): ``T`` segments
    of ``L`` consecutive frames each (TDN 5, EAN 5, BQN 3), ordered segment by
    segment as ``SampleFrames(clip_len=L, frame_interval=1, num_clips=T)`` +
    ``FormatShape('NCHW')`` give them. The backbone then picks its RGB frame
    (``[:, L // 2]`` for TDN/EAN, ``[:, 0]`` for BQN's quiet path)."""
    frames = num_segments * snippet_len
    if x.dim() != 4 or frames < 1 or x.shape[0] % frames != 0:
        raise ValueError(
            f'{where} expects N*{frames} frames (num_segments={num_segments} '
            f'snippets of snippet_len={snippet_len} frames, ordered segment '
            f'by segment; sample with SampleFrames(clip_len={snippet_len}, '
            f'num_clips={num_segments})), got input shape {tuple(x.shape)}'
        )
    return x.view(-1, snippet_len, *x.shape[1:])
