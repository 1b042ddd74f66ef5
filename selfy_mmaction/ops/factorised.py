"""Factorised and shared-kernel spatio-temporal convolutions (P3D, R(2+1)D,
CoST) that work in Recognizer2D's ``(N*T, C, H, W)`` layout and in
Recognizer3D's ``(N, C, T, H, W)`` layout."""

from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model.weight_init import constant_init, kaiming_init

from .layout import to_4d, to_5d

TEMPORAL_INITS = ('identity', 'kaiming', 'zero')


class TemporalConv(nn.Module):
    """A full ``k x 1 x 1`` convolution over time (P3D's T, the temporal half
    of R(2+1)D), zero padding in time.

    Input ``(N*T, C_in, H, W)`` (with ``num_segments=T``) or
    ``(N, C_in, T, H, W)`` (``num_segments=None``); output the same layout
    with ``C_out`` channels and ``H' = ceil(H / stride)`` (a spatial stride
    subsamples, as a strided 1x1 conv). No bias, no norm.

    Args:
        in_channels (int): ``C_in``.
        out_channels (int): ``C_out``.
        num_segments (int, optional): ``T`` for the 2D layout; ``None`` for
            5-D input.
        kernel_size (int): Temporal kernel size (odd). Defaults to 3.
        stride (int): Spatial stride. Defaults to 1.
        init (str): ``'identity'`` (centre tap = identity matrix, the rest 0;
            needs ``C_in == C_out``), ``'kaiming'`` (MMEngine's
            ``kaiming_init``, fan-out) or ``'zero'``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        num_segments: Optional[int] = None,
        kernel_size: int = 3,
        stride: int = 1,
        init: str = 'identity',
    ):
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f'kernel_size must be odd, got {kernel_size}')
        if init not in TEMPORAL_INITS:
            raise ValueError(
                f'init must be one of {TEMPORAL_INITS}, got {init!r}'
            )
        if init == 'identity' and in_channels != out_channels:
            raise ValueError(
                f"init='identity' needs in_channels == "
                f'out_channels, got {in_channels} -> '
                f'{out_channels}'
            )
        self.num_segments = num_segments
        self.init = init
        self.conv = nn.Conv3d(
            in_channels,
            out_channels,
            (kernel_size, 1, 1),
            stride=(1, stride, stride),
            padding=(kernel_size // 2, 0, 0),
            bias=False,
        )

    def init_weights(self) -> None:
        if self.init == 'kaiming':
            kaiming_init(self.conv, mode='fan_out')
            return
        constant_init(self.conv, 0)
        if self.init == 'identity':
            centre = self.conv.kernel_size[0] // 2
            with torch.no_grad():
                self.conv.weight[:, :, centre, 0, 0].copy_(
                    torch.eye(self.conv.out_channels)
                )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.num_segments is None:
            return self.conv(x)
        return to_4d(
            self.conv(to_5d(x, self.num_segments, type(self).__name__))
        )


def shared_kernel_views(
    x: torch.Tensor,
    weight: torch.Tensor,
    stride: Sequence[int] = (1, 1, 1),
    views: Sequence[str] = ('hw', 'tw', 'th'),
) -> Tuple[torch.Tensor, ...]:
    """Convolve a 5-D tensor with one square ``k x k`` kernel laid over
    several planes of the ``(T, H, W)`` volume (CoST's collaborative views).

    The kernel's rows run along the first axis of each plane and its columns
    along the second: ``'hw'`` is the ordinary ``1 x k x k`` conv, ``'tw'``
    a ``k x 1 x k`` conv (rows along T) and ``'th'`` a ``k x k x 1`` conv
    (rows along T, columns along H). Zero ``k // 2`` padding on the two axes
    of each plane, so every view has the same output size.

    Args:
        x (Tensor): ``(N, C_in, T, H, W)``.
        weight (Tensor): ``(C_out, C_in, k, k)`` or ``(C_out, C_in, 1, k,
            k)`` (a 2D conv's or a ``1 x k x k`` Conv3d's weight).
        stride (Sequence[int]): ``(s_t, s_h, s_w)``, shared by the views.
        views (Sequence[str]): Planes, from ``'hw'``, ``'tw'``, ``'th'``.

    Returns:
        tuple[Tensor]: One ``(N, C_out, T', H', W')`` tensor per view.
    """
    if weight.dim() == 5:
        if weight.shape[2] != 1:
            raise ValueError(
                f'a 5-D shared kernel must be 1 x k x k, got '
                f'shape {tuple(weight.shape)}'
            )
        weight = weight.squeeze(2)
    if (
        weight.dim() != 4
        or weight.shape[2] != weight.shape[3]
        or weight.shape[2] % 2 != 1
    ):
        raise ValueError(
            f'the shared kernel must be square with an odd '
            f'size, got shape {tuple(weight.shape)}'
        )
    if x.dim() != 5:
        raise ValueError(
            f'expected a 5-D (N, C, T, H, W) input, got shape {tuple(x.shape)}'
        )
    pad = weight.shape[2] // 2
    # view -> (axis of the singleton kernel dim, padding)
    layout = {
        'hw': (2, (0, pad, pad)),
        'tw': (3, (pad, 0, pad)),
        'th': (4, (pad, pad, 0)),
    }
    outs = []
    for view in views:
        if view not in layout:
            raise ValueError(
                f"unknown view {view!r}; expected 'hw', 'tw' or 'th'"
            )
        axis, padding = layout[view]
        outs.append(
            F.conv3d(x, weight.unsqueeze(axis), None, tuple(stride), padding)
        )
    return tuple(outs)
