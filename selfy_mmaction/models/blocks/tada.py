"""TAda2D: temporally-adaptive convolutions (Huang et al., ICLR 2022).

A TAda2D block replaces the 3x3 conv of every ResNet bottleneck
(``position='wrap_conv2'`` of :class:`ResNetWithBlocks`, with
``stem_pool=False`` for the paper's stem):

* Routing: ``v`` = spatial mean of the input ``(N, C, T)``, plus a 1x1 conv
  of its global mean; Conv1d over T (k3, ``C -> C/r``) + BN + ReLU; Conv1d
  (k3, ``C/r -> C``, no bias, zero-init); ``alpha = 1 + that``.
* TAdaConv2d: the frame-``t`` weight is ``alpha_t * W_b`` along the input
  channels, computed exactly as the ImageNet conv ``W_b`` (kept in the
  wrapped ``nn.Conv2d``) applied to the input scaled by ``alpha_t``.
* ``Y' = ReLU(BN1(Y) + BN2(AvgPool_T(Y)))``: ``BN1`` and ``ReLU`` are the
  wrapped ConvModule's, ``BN2`` starts at ``gamma = beta = 0``.

At init ``alpha = 1`` and ``BN2(.) = 0``, so the block computes exactly the
wrapped conv + BN + ReLU.
"""

from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmcv.cnn import ConvModule
from mmengine.model.weight_init import constant_init, kaiming_init

from ...ops.layout import to_4d, to_5d
from .base import MotionBlock


class TAdaRouting(MotionBlock):
    """Calibration weights ``alpha`` from the input of a TAda conv.

    Args:
        channels (int): ``C``.
        reduction (int): Hidden channels ``C // reduction``. Defaults to 4.
        kernel_sizes (Sequence[int]): Temporal kernels of the two Conv1d.
            Defaults to ``(3, 3)``.
        init_cfg (dict, optional): Replaces :meth:`default_init`
            (:class:`MotionBlock`). Defaults to None.

    Input ``(N, C, T, H, W)``; output ``(N, C, T)``, ones at init.
    """

    def __init__(
        self,
        channels: int,
        reduction: int = 4,
        kernel_sizes: Sequence[int] = (3, 3),
        init_cfg: Optional[dict] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        if channels // reduction < 1:
            raise ValueError(
                f'TAda routing: channels={channels} is smaller '
                f'than reduction={reduction}'
            )
        if len(kernel_sizes) != 2 or any(k % 2 != 1 for k in kernel_sizes):
            raise ValueError(
                f'TAda routing: kernel_sizes must be two odd '
                f'sizes, got {tuple(kernel_sizes)}'
            )
        hidden = channels // reduction
        self.global_proj = nn.Conv1d(channels, channels, 1)
        self.reduce = nn.Conv1d(
            channels, hidden, kernel_sizes[0], padding=kernel_sizes[0] // 2
        )
        self.bn = nn.BatchNorm1d(hidden)
        self.relu = nn.ReLU(inplace=True)
        self.expand = nn.Conv1d(
            hidden,
            channels,
            kernel_sizes[1],
            padding=kernel_sizes[1] // 2,
            bias=False,
        )

    def default_init(self) -> None:
        kaiming_init(self.global_proj, mode='fan_out')
        kaiming_init(self.reduce, mode='fan_out')
        constant_init(self.bn, 1, 0)
        constant_init(self.expand, 0)  # alpha = 1 at init

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        frames = x.mean(dim=(3, 4))  # (N, C, T)
        context = frames + self.global_proj(frames.mean(2, keepdim=True))
        return 1 + self.expand(self.relu(self.bn(self.reduce(context))))


@MODELS.register_module()
class TAda2DBlock(MotionBlock):
    """TAdaConv2d + temporal feature aggregation around a bottleneck's 3x3
    ``ConvModule`` (conv + BN + ReLU).

    Args:
        net (ConvModule): The original 3x3 ``ConvModule``; filled in by the
            backbone.
        num_segments (int): ``T``; filled in by the backbone.
        route_reduction (int): Routing hidden-channel reduction. Defaults to 4.
        route_kernel_sizes (Sequence[int]): Routing temporal kernels.
            Defaults to ``(3, 3)``.
        pool_kernel_size (int): Temporal average pool of the aggregation
            branch (stride 1, zero padding counted). Defaults to 3.
        init_cfg (dict, optional): Replaces :meth:`default_init`
            (:class:`MotionBlock`). Defaults to None.

    Input ``(N*T, C_in, H, W)``; output ``(N*T, C_out, H', W')`` like ``net``.
    """

    def __init__(
        self,
        net: ConvModule,
        num_segments: int,
        route_reduction: int = 4,
        route_kernel_sizes: Sequence[int] = (3, 3),
        pool_kernel_size: int = 3,
        init_cfg: Optional[dict] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        conv = getattr(net, 'conv', None)
        if (
            not isinstance(conv, nn.Conv2d)
            or not net.with_norm
            or not net.with_activation
        ):
            raise TypeError(
                f'TAda2DBlock wraps a ConvModule with an '
                f'nn.Conv2d, a norm and an activation (position '
                f'wrap_conv2), got {type(net).__name__} with conv '
                f'{type(conv).__name__}'
            )
        if pool_kernel_size % 2 != 1:
            raise ValueError(
                f'pool_kernel_size must be odd, got {pool_kernel_size}'
            )
        self.num_segments = num_segments
        self.net = net
        self.routing = TAdaRouting(
            conv.in_channels, route_reduction, route_kernel_sizes
        )
        self.pool_kernel_size = pool_kernel_size
        self.temporal_bn = nn.BatchNorm2d(conv.out_channels)

    def default_init(self) -> None:
        """Initialise routing and BN2 only; ``net`` keeps its weights."""
        self.routing.init_weights()
        constant_init(self.temporal_bn, 0, 0)

    def temporal_pool(self, y: torch.Tensor) -> torch.Tensor:
        """Mean over ``pool_kernel_size`` frames around each frame, zero
        padded (zeros counted): ``(N, C, T, H, W)`` -> same shape."""
        k = self.pool_kernel_size
        padded = F.pad(y, (0, 0, 0, 0, k // 2, k // 2))
        # avg_pool3d, not unfold: ONNX exports it (unfold after pad fails)
        return F.avg_pool3d(padded, (k, 1, 1), stride=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = self.num_segments
        x5 = to_5d(x, t, type(self).__name__)
        alpha = self.routing(x5)[..., None, None]  # (N, C, T, 1, 1)
        y = self.net.conv(to_4d(x5 * alpha))
        pooled = to_4d(self.temporal_pool(to_5d(y, t)))
        return self.net.activate(self.net.norm(y) + self.temporal_bn(pooled))
