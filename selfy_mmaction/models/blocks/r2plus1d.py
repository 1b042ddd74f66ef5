"""R(2+1)D (Tran et al., CVPR 2018) in the 2D recipe: a ResNet's 3x3 conv
factorised into its ImageNet spatial conv and a temporal conv.

``out = T(ReLU(BN(conv_S(x))))``: ``net`` (the bottleneck's 3x3
``ConvModule``, ImageNet weights) is the spatial half with its BN and ReLU,
as MMAction2's ``Conv2plus1d`` puts BN+ReLU between the halves; T is a
``3x1x1`` temporal conv over the ``(N, C, T, H, W)`` view, full
(:class:`TemporalConv`, ``3 C^2`` parameters, R(2+1)D's form) or depthwise
(:class:`TemporalConv1d`, ``3 C``), initialised as the identity so the block
starts as the 2D conv exactly. No norm follows T (the bottleneck's conv3 BN
does). The mid width is ``C`` (the ImageNet conv's), not R(2+1)D's
parameter-matching ``M``.

Use ``position='wrap_conv2'`` (``wrap_conv1`` for basic blocks) of
:class:`ResNetWithBlocks`. MMAction2's own 3D network is ``ResNet2Plus1d``
(configs/r2plus1d/r2plus1d_r18_1x1x8-4e_motion-rgb.py).
"""

from typing import Optional, Union

import torch
import torch.nn as nn
from mmaction.registry import MODELS

from ...ops.factorised import TemporalConv
from ...ops.temporal import TemporalConv1d
from .base import MotionBlock


@MODELS.register_module()
class R2Plus1DConv(MotionBlock):
    """Spatial ImageNet conv (``net``) followed by an identity-initialised
    temporal conv.

    Args:
        net (nn.Module): The 3x3 ``ConvModule``; filled in by the backbone.
        num_segments (int): ``T``; filled in by the backbone.
        temporal_kernel_size (int): Defaults to 3.
        depthwise (bool): Depthwise temporal conv instead of a full one.
            Defaults to False.
        init_cfg (dict, optional): Replaces :meth:`default_init`
            (:class:`MotionBlock`). Defaults to None.

    Input ``(N*T, C_in, H, W)``; output ``(N*T, C_out, H', W')`` like ``net``.
    """

    def __init__(
        self,
        net: nn.Module,
        num_segments: int,
        temporal_kernel_size: int = 3,
        depthwise: bool = False,
        init_cfg: Optional[dict] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        conv = getattr(net, 'conv', None)
        if not isinstance(conv, nn.Conv2d):
            raise TypeError(
                f'R2Plus1DConv wraps a ConvModule holding an '
                f'nn.Conv2d (is_shift=False), got '
                f'{type(net).__name__} with conv '
                f'{type(conv).__name__}'
            )
        self.net = net
        channels = conv.out_channels
        self.temporal: Union[TemporalConv1d, TemporalConv]
        if depthwise:
            self.temporal = TemporalConv1d(
                channels,
                num_segments,
                temporal_kernel_size,
                init='identity',
                learnable=True,
            )
        else:
            self.temporal = TemporalConv(
                channels,
                channels,
                num_segments,
                temporal_kernel_size,
                init='identity',
            )

    def default_init(self) -> None:
        """T starts as the identity; ``net`` keeps its weights."""
        self.temporal.init_weights()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.temporal(self.net(x))
