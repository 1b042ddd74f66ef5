"""Temporal operations shared by the blocks: shift-initialised depthwise
temporal convolution and temporal differences, in the ``(N*T, C, H, W)``
layout."""

from typing import Literal, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model.weight_init import constant_init, kaiming_init

from .layout import to_ntchw


def temporal_difference(
    x: torch.Tensor,
    num_segments: int,
    step: int = 1,
    neighbour: Optional[torch.Tensor] = None,
) -> torch.Tensor:
    """``D_t = y_{t+step} - x_t`` with zeros where ``t+step`` leaves the clip.

    Args:
        x (Tensor): ``(N*T, C, H, W)``.
        num_segments (int): ``T``.
        step (int): ``+1`` for forward differences, ``-1`` for backward.
        neighbour (Tensor, optional): ``y``, same shape as ``x``; defaults to
            ``x`` (plain differences). TEA/STM/TDN pass a convolved ``x``.

    Returns:
        Tensor: ``(N*T, C, H, W)``.
    """
    y = x if neighbour is None else neighbour
    if y.shape != x.shape:
        raise ValueError(
            f'neighbour shape {tuple(y.shape)} != input shape {tuple(x.shape)}'
        )
    x5, y5 = to_ntchw(x, num_segments), to_ntchw(y, num_segments)
    out = torch.zeros_like(x5)
    if step > 0:
        out[:, : num_segments - step] = (
            y5[:, step:] - x5[:, : num_segments - step]
        )
    elif step < 0:
        out[:, -step:] = y5[:, : num_segments + step] - x5[:, -step:]
    else:
        raise ValueError('step must be non-zero')
    return out.view_as(x)


class TemporalConv1d(nn.Conv1d):
    """Depthwise convolution over time, initialised as a shift pattern.

    An ``nn.Conv1d`` (depthwise, no bias), so optimizer constructors that
    group parameters by layer type (MMAction2's TSMOptimWrapperConstructor)
    accept it; only ``forward`` differs (it runs over the segments).

    Input and output ``(N*T, C, H, W)``; zero (or replicate) padding in time.
    With ``fractions=(1/8, 1/8)`` and ``learnable=False`` it equals
    MMAction2's ``TemporalShift`` (first ``C/8`` channels read ``t+1``, next
    ``C/8`` read ``t-1``).

    Args:
        channels (int): ``C``.
        num_segments (int): ``T``.
        kernel_size (int): Temporal kernel size (odd). Defaults to 3.
        init (str | Sequence[float]): ``'shift'``, ``'identity'``, ``'zero'``
            or explicit taps shared by every channel (BQN's MBPM:
            ``(-1/3, 2/3, -1/3)``).
        fractions (Sequence[float]): For ``'shift'``: fractions of channels
            that read ``t+1`` and ``t-1`` (``t +- dilation``); the rest read
            ``t``.
        learnable (bool): Whether the kernel is trained.
        dilation (int): Temporal dilation: tap ``i`` reads
            ``t + (i - kernel_size // 2) * dilation``. Defaults to 1.
        padding_mode (str): ``'zeros'`` or ``'replicate'`` (frames outside
            the clip repeat the first/last frame). Defaults to ``'zeros'``.
    """

    def __init__(
        self,
        channels: int,
        num_segments: int,
        kernel_size: int = 3,
        init: Union[str, Sequence[float]] = 'shift',
        fractions: Sequence[float] = (0.125, 0.125),
        learnable: bool = True,
        dilation: int = 1,
        padding_mode: str = 'zeros',
    ):
        if kernel_size % 2 != 1:
            raise ValueError(f'kernel_size must be odd, got {kernel_size}')
        if isinstance(init, str):
            if init not in ('shift', 'identity', 'zero'):
                raise ValueError(
                    f"init must be 'shift', 'identity', 'zero' "
                    f'or a sequence of taps, got {init!r}'
                )
        elif len(init) != kernel_size:
            raise ValueError(
                f'init taps {tuple(init)} do not match '
                f'kernel_size={kernel_size}'
            )
        if dilation < 1:
            raise ValueError(f'dilation must be >= 1, got {dilation}')
        if padding_mode not in ('zeros', 'replicate'):
            raise ValueError(
                f"padding_mode must be 'zeros' or 'replicate', "
                f'got {padding_mode!r}'
            )
        mode: Literal['zeros', 'replicate'] = (
            'zeros' if padding_mode == 'zeros' else 'replicate'
        )
        super().__init__(
            channels,
            channels,
            kernel_size,
            dilation=dilation,
            groups=channels,
            bias=False,
            padding_mode=mode,
        )
        self.channels = channels
        self.num_segments = num_segments
        self.init = init if isinstance(init, str) else tuple(init)
        self.fractions = tuple(fractions)
        self.weight.requires_grad_(learnable)
        self.init_weights()

    def init_weights(self) -> None:
        w = torch.zeros_like(self.weight)
        centre = self.kernel_size[0] // 2
        if not isinstance(self.init, str):
            w[:, 0] = torch.tensor(self.init, dtype=w.dtype, device=w.device)
        elif self.init == 'identity':
            w[:, 0, centre] = 1
        elif self.init == 'shift':
            fwd = int(self.channels * self.fractions[0])
            bwd = int(self.channels * self.fractions[1])
            w[:fwd, 0, centre + 1] = 1  # reads t+1
            w[fwd : fwd + bwd, 0, centre - 1] = 1  # reads t-1
            w[fwd + bwd :, 0, centre] = 1
        with torch.no_grad():
            self.weight.copy_(w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nt, c, h, w = x.shape
        x5 = to_ntchw(x, self.num_segments, type(self).__name__)
        n = x5.shape[0]
        # (N, T, C, H*W) -> (N*H*W, C, T)
        y = x5.reshape(n, self.num_segments, c, h * w).permute(0, 3, 2, 1)
        y = y.reshape(n * h * w, c, self.num_segments)
        pad = self.dilation[0] * (self.kernel_size[0] // 2)
        if self.padding_mode == 'replicate':
            y = F.pad(y, (pad, pad), mode='replicate')
            pad = 0
        y = F.conv1d(
            y, self.weight, padding=pad, dilation=self.dilation, groups=c
        )
        y = y.view(n, h * w, c, self.num_segments).permute(0, 3, 2, 1)
        return y.reshape(nt, c, h, w)


class TemporalDifferenceUnit(nn.Module):
    """Feature-level temporal difference shared by TEA (ME), STM (CMM) and
    TDN (L-TDM).

    ``F = BN(conv1x1 C->C/r)(x)``, ``G = depthwise kxk(F)`` (no bias), and for
    every step ``s``: ``D^s_t = G_{t+s} - F_t``, zero where ``t+s`` leaves the
    clip (see :func:`temporal_difference`).

    Args:
        in_channels (int): ``C``.
        num_segments (int): ``T``.
        reduction (int): ``r``; the unit works on ``C // r`` channels.
        kernel_size (int): Size of the depthwise spatial conv on the
            neighbour. Defaults to 3.
        steps (Sequence[int]): Temporal steps, ``(1,)`` forward (TEA, STM),
            ``(1, -1)`` forward and backward (TDN).

    Input ``(N*T, C, H, W)``; output a tuple with one ``(N*T, C//r, H, W)``
    difference per step.
    """

    def __init__(
        self,
        in_channels: int,
        num_segments: int,
        reduction: int = 16,
        kernel_size: int = 3,
        steps: Sequence[int] = (1,),
    ):
        super().__init__()
        if in_channels // reduction < 1:
            raise ValueError(
                f'in_channels={in_channels} is smaller than '
                f'reduction={reduction}'
            )
        if not steps or 0 in steps:
            raise ValueError(
                f'steps must be non-empty and non-zero, got {tuple(steps)}'
            )
        self.num_segments = num_segments
        self.steps = tuple(steps)
        self.channels = in_channels // reduction
        self.reduce = ConvModule(
            in_channels,
            self.channels,
            1,
            bias=False,
            norm_cfg=dict(type='BN'),
            act_cfg=None,
        )
        self.neighbour_conv = nn.Conv2d(
            self.channels,
            self.channels,
            kernel_size,
            padding=kernel_size // 2,
            groups=self.channels,
            bias=False,
        )

    def init_weights(self) -> None:
        kaiming_init(self.reduce.conv, mode='fan_out')
        constant_init(self.reduce.bn, 1, 0)
        kaiming_init(self.neighbour_conv, mode='fan_out')

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        f = self.reduce(x)
        g = self.neighbour_conv(f)
        return tuple(
            temporal_difference(f, self.num_segments, step, neighbour=g)
            for step in self.steps
        )
