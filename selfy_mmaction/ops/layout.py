"""Layout helpers between Recognizer2D's ``(N*T, C, H, W)`` and ``(N, C, T, H, W)``."""
import torch


def check_segments(x: torch.Tensor, num_segments: int, where: str = 'input'):
    """Return ``N`` for a ``(N*T, ...)`` tensor, or raise a clear error.

    Args:
        x (Tensor): Tensor whose first dimension is ``N*T``.
        num_segments (int): ``T``.
        where (str): Name of the caller, used in the message.
    """
    if num_segments < 1:
        raise ValueError(f'{where}: num_segments must be >= 1, '
                         f'got {num_segments}')
    if x.shape[0] % num_segments != 0:
        raise ValueError(
            f'{where}: batch dimension {x.shape[0]} of input shape '
            f'{tuple(x.shape)} is not a multiple of num_segments='
            f'{num_segments} (expected N*{num_segments} frames)')
    return x.shape[0] // num_segments


def to_5d(x: torch.Tensor, num_segments: int, where: str = 'input'):
    """``(N*T, C, H, W)`` -> ``(N, C, T, H, W)``."""
    if x.dim() != 4:
        raise ValueError(f'{where}: expected a 4-D (N*T, C, H, W) tensor, '
                         f'got shape {tuple(x.shape)}')
    n = check_segments(x, num_segments, where)
    return x.view(n, num_segments, *x.shape[1:]).transpose(1, 2)


def to_4d(x: torch.Tensor):
    """``(N, C, T, H, W)`` -> ``(N*T, C, H, W)`` (contiguous)."""
    n, c, t, h, w = x.shape
    return x.transpose(1, 2).reshape(n * t, c, h, w)


def to_ntchw(x: torch.Tensor, num_segments: int, where: str = 'input'):
    """``(N*T, C, H, W)`` -> ``(N, T, C, H, W)`` (a view)."""
    if x.dim() != 4:
        raise ValueError(f'{where}: expected a 4-D (N*T, C, H, W) tensor, '
                         f'got shape {tuple(x.shape)}')
    n = check_segments(x, num_segments, where)
    return x.view(n, num_segments, *x.shape[1:])
