"""BQN's Motion Band-Pass Module (MBPM) and the Busy-Quiet laterals (Huang,
Bors, arXiv 2103.15584, WACV 2022; extended in IEEE TIP 2022), after the
official code (busy-quiet-net, ``src/bpf.py``, ``src/bqn_resnet.py``).

MBPM = a depthwise ``k x k`` Laplacian of Gaussian (learnable, initialised
as ``LoG(sigma)`` divided by its sum, reflect padding) and a depthwise
temporal kernel ``[-1, 2, -1] / 3`` (learnable):

* input MBPM: 3 consecutive frames per segment -> one "busy" frame
  (``sigma = 1.1``, ``k = 9``; 3*81 + 3*3 = 252 parameters);
* feature MBPM: over the segments of ``(N*T, C, H, W)`` features, stride 1,
  replicate padding in time (``sigma = 0.9``, ``k = 7``, ``k = 3`` in
  layer4).

Both filters are depthwise and linear and the padding is per frame (space)
or per position (time), so their order does not change the result; the
temporal kernel runs first, which costs the input MBPM a third of the LoG
multiply-adds of filtering every frame.
"""

import math
from typing import Optional, Tuple

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmcv.cnn import ConvModule
from mmengine.model.weight_init import constant_init, kaiming_init

from ...ops.layout import to_ntchw
from ...ops.temporal import TemporalConv1d
from .base import MotionBlock

BAND_PASS_TAPS = (-1 / 3, 2 / 3, -1 / 3)


def log_kernel(sigma: float, kernel_size: int) -> torch.Tensor:
    """``LoG(x, y) = -1/(pi sigma^4) (1 - r^2/(2 sigma^2)) exp(-r^2/(2
    sigma^2))`` on the ``k x k`` integer grid centred at 0, divided by its
    sum (float64). The truncated sum is small and negative for the BQN
    settings, so the normalised centre tap is large (about 278 for
    ``sigma=1.1, k=9``)."""
    if kernel_size < 1 or kernel_size % 2 != 1:
        raise ValueError(
            f'kernel_size must be a positive odd size, got {kernel_size}'
        )
    if sigma <= 0:
        raise ValueError(f'sigma must be positive, got {sigma}')
    r = torch.arange(kernel_size, dtype=torch.float64) - kernel_size // 2
    q = (r.view(-1, 1) ** 2 + r.view(1, -1) ** 2) / (2 * sigma**2)
    kernel = -(1 - q) * torch.exp(-q) / (math.pi * sigma**4)
    total = kernel.sum()
    if abs(total) < 1e-12:
        raise ValueError(
            f'LoG(sigma={sigma}) sums to ~0 on a {kernel_size}x'
            f'{kernel_size} grid; it cannot be normalised'
        )
    return kernel / total


@MODELS.register_module()
class MotionBandPass(MotionBlock):
    """BQN's MBPM (see the module docstring).

    Args:
        channels (int): ``C``.
        num_segments (int): ``T`` for features (``snippet=False``), or the
            frames per segment (3) for the input MBPM (``snippet=True``).
        sigma (float): LoG sigma. Defaults to 1.1.
        kernel_size (int): LoG size ``k``. Defaults to 9.
        snippet (bool): Input MBPM: ``(N*T, 3, C, H, W)`` frames -> one
            ``(N*T, C, H, W)`` frame per segment (the temporal kernel over
            the 3 frames, stride 3). Otherwise ``(N*T, C, H, W)`` ->
            ``(N*T, C, H, W)`` over the segments (stride 1, replicate
            padding).
        init_cfg (dict, optional): Replaces :meth:`default_init`
            (:class:`MotionBlock`). Defaults to None.
    """

    def __init__(
        self,
        channels: int,
        num_segments: int,
        sigma: float = 1.1,
        kernel_size: int = 9,
        snippet: bool = False,
        init_cfg: Optional[dict] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        self.snippet = snippet
        if snippet and num_segments != len(BAND_PASS_TAPS):
            raise ValueError(
                f'the input MBPM filters {len(BAND_PASS_TAPS)} '
                f'frames per segment, got {num_segments}'
            )
        self.channels = channels
        self.num_segments = num_segments
        self.sigma = float(sigma)
        self.kernel_size = kernel_size
        self.temporal = TemporalConv1d(
            channels,
            num_segments,
            len(BAND_PASS_TAPS),
            init=BAND_PASS_TAPS,
            padding_mode='replicate',
        )
        self.spatial = nn.Conv2d(
            channels,
            channels,
            kernel_size,
            padding=kernel_size // 2,
            groups=channels,
            bias=False,
            padding_mode='reflect',
        )
        self.log_init = log_kernel(self.sigma, kernel_size)

    def default_init(self) -> None:
        self.temporal.init_weights()
        with torch.no_grad():
            self.spatial.weight.copy_(
                self.log_init.expand_as(self.spatial.weight)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pad = self.kernel_size // 2
        if min(x.shape[-2:]) <= pad:
            raise ValueError(
                f'MotionBandPass: reflect padding of the {self.kernel_size}x'
                f'{self.kernel_size} LoG needs H, W > {pad}, got input shape '
                f'{tuple(x.shape)}'
            )
        if self.snippet:
            expected = (len(BAND_PASS_TAPS), self.channels)
            if x.dim() != 5 or tuple(x.shape[1:3]) != expected:
                raise ValueError(
                    f'the input MotionBandPass expects segments (N*T, '
                    f'{expected[0]}, {expected[1]}, H, W), got '
                    f'{tuple(x.shape)}'
                )
            # the middle output reads exactly frames 0, 1, 2 (stride 3)
            x = to_ntchw(self.temporal(x.flatten(0, 1)), len(BAND_PASS_TAPS))[
                :, 1
            ]
        else:
            x = self.temporal(x)
        return self.spatial(x)


class BusyQuietLateral(MotionBlock):
    """BQN's laterals after a pair of blocks: ``quiet += to_quiet(busy)``,
    ``busy += to_busy(MBPM(quiet))`` (both from the blocks' outputs). Each
    ``to_*`` is a 1x1 conv + BN with ``gamma = beta = 0``: zero at init.

    Args:
        channels (int): ``C`` of both pathways.
        num_segments (int): ``T``.
        sigma (float): Feature MBPM sigma. Defaults to 0.9.
        kernel_size (int): Feature MBPM LoG size. Defaults to 7.
        init_cfg (dict, optional): Replaces :meth:`default_init`
            (:class:`MotionBlock`). Defaults to None.
    """

    def __init__(
        self,
        channels: int,
        num_segments: int,
        sigma: float = 0.9,
        kernel_size: int = 7,
        init_cfg: Optional[dict] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        self.band_pass = MotionBandPass(
            channels, num_segments, sigma, kernel_size
        )
        self.to_quiet = ConvModule(
            channels,
            channels,
            1,
            bias=False,
            norm_cfg=dict(type='BN'),
            act_cfg=None,
        )
        self.to_busy = ConvModule(
            channels,
            channels,
            1,
            bias=False,
            norm_cfg=dict(type='BN'),
            act_cfg=None,
        )

    def default_init(self) -> None:
        self.band_pass.init_weights()
        for lateral in (self.to_quiet, self.to_busy):
            kaiming_init(lateral.conv, mode='fan_out')
            constant_init(lateral.bn, 0, 0)

    def forward(
        self, quiet: torch.Tensor, busy: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        return (
            quiet + self.to_quiet(busy),
            busy + self.to_busy(self.band_pass(quiet)),
        )
