"""STM: SpatioTemporal and Motion encoding (Jiang et al., ICCV 2019).

An STM block replaces the 3x3 conv of a ResNet bottleneck
(``position='wrap_conv2'`` of :class:`ResNetWithBlocks`; the paper replaces
all 16 bottlenecks of a plain ImageNet ResNet-50):

* CSTM: a learnable depthwise temporal conv, initialised as a shift
  (``C/4`` channels read ``t+1``, ``C/4`` read ``t-1``, the rest ``t``), then
  the ResNet's own 3x3 conv + BN + ReLU (kept as ``self.net``, so ImageNet
  weights load into ``conv2.net.conv``).
* CMM: feature-level temporal difference on ``C/r`` channels
  (:class:`TemporalDifferenceUnit`), then a 1x1 conv back to the output
  channels (no bias, no BN). In strided blocks it runs on the pre-stride map
  and is max-pooled afterwards.

``out = CSTM(x) + CMM(x)``; the bottleneck's conv3 then fuses the sum.
Nothing is zero-initialised: the block is not the identity at init.
"""

from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.model.weight_init import kaiming_init

from ...ops.temporal import TemporalConv1d, TemporalDifferenceUnit
from .base import MotionBlock


@MODELS.register_module()
class STMBlock(MotionBlock):
    """CSTM + CMM around a bottleneck's 3x3 ``ConvModule``.

    Args:
        net (nn.Module): The original 3x3 ``ConvModule`` (conv + BN + ReLU);
            filled in by the backbone.
        num_segments (int): ``T``; filled in by the backbone.
        reduction (int): CMM channel reduction ``r``. Defaults to 16.
        shift_fractions (Sequence[float]): Fractions of channels whose
            temporal kernel starts reading ``t+1`` and ``t-1``.
            Defaults to ``(1/4, 1/4)``.
        temporal_kernel_size (int): CSTM temporal kernel. Defaults to 3.
        diff_kernel_size (int): CMM depthwise spatial kernel on the
            neighbour frame. Defaults to 3.
        init_cfg (dict, optional): Replaces :meth:`default_init`
            (:class:`MotionBlock`). Defaults to None.

    Input ``(N*T, C_in, H, W)``; output ``(N*T, C_out, H', W')`` like ``net``.
    """

    def __init__(
        self,
        net: nn.Module,
        num_segments: int,
        reduction: int = 16,
        shift_fractions: Sequence[float] = (0.25, 0.25),
        temporal_kernel_size: int = 3,
        diff_kernel_size: int = 3,
        init_cfg: Optional[dict] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        conv = getattr(net, 'conv', None)
        if not isinstance(conv, nn.Conv2d):
            raise TypeError(
                f'STMBlock wraps a ConvModule holding an '
                f'nn.Conv2d (position wrap_conv2), got '
                f'{type(net).__name__} with conv '
                f'{type(conv).__name__}'
            )
        if conv.stride[0] != conv.stride[1]:
            raise ValueError(
                f'STMBlock needs a square stride, got {conv.stride}'
            )
        self.num_segments = num_segments
        self.temporal_conv = TemporalConv1d(
            conv.in_channels,
            num_segments,
            temporal_kernel_size,
            init='shift',
            fractions=shift_fractions,
            learnable=True,
        )
        self.net = net
        self.difference = TemporalDifferenceUnit(
            conv.in_channels,
            num_segments,
            reduction,
            kernel_size=diff_kernel_size,
            steps=(1,),
        )
        self.expand = nn.Conv2d(
            self.difference.channels, conv.out_channels, 1, bias=False
        )
        stride = conv.stride[0]
        # ceil_mode matches the strided 3x3 conv's output size on odd maps
        self.pool = (
            nn.MaxPool2d(stride, stride, ceil_mode=True)
            if stride > 1
            else nn.Identity()
        )

    def default_init(self) -> None:
        """Initialise the new layers only; ``net`` keeps its weights."""
        self.temporal_conv.init_weights()
        self.difference.init_weights()
        kaiming_init(self.expand, mode='fan_out')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spatiotemporal = self.net(self.temporal_conv(x))
        (difference,) = self.difference(x)
        return spatiotemporal + self.pool(self.expand(difference))
