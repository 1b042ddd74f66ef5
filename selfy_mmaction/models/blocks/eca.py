"""ECA: Efficient Channel Attention (Wang et al., CVPR 2020).

Per frame: global average pool -> a 1-D convolution of size ``k`` across the
channel axis (one input and one output channel, zero padding ``(k-1)/2``,
no bias) -> sigmoid -> ``x * w``. ``k`` parameters per block, no BN.

Placement (official ECA-ResNet): after the last BN of every residual block,
before the residual add: ``position='after_conv3'`` for bottlenecks
(ResNet-50/101), ``position='after_conv2'`` for ResNet-18/34 basic blocks,
in all four stages of :class:`ResNetTSMWithBlocks` (TSM + ECA) or
:class:`ResNetWithBlocks` (ECA alone: no temporal modelling).

Kernel size: the released ECA-R50 uses ``k = 3, 5, 5, 7`` in res2..res5
(:data:`ECA_RELEASED_KERNELS`; 80 extra parameters on a ResNet-50); the
paper's adaptive rule :func:`eca_kernel_size` gives 5, 5, 5, 7. Configs give
one ``blocks`` entry per stage with its ``kernel_size``
(:func:`eca_blocks` builds that list).
"""

import math
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
from mmaction.registry import MODELS

from .base import MotionBlock

#: Kernel sizes of the released ECA-ResNet-50 (``eca_resnet50_k3557``).
ECA_RELEASED_KERNELS = (3, 5, 5, 7)


def eca_kernel_size(channels: int, gamma: float = 2, b: float = 1) -> int:
    """The paper's adaptive kernel size ``|log2(C)/gamma + b/gamma|_odd``:
    ``t = int((log2(C) + b) / gamma)``, then the next odd number (``t`` if
    odd, ``t + 1`` if even)."""
    if channels < 1:
        raise ValueError(f'channels must be >= 1, got {channels}')
    t = int(abs((math.log2(channels) + b) / gamma))
    return t if t % 2 else t + 1


def eca_blocks(
    kernel_sizes: Sequence[Optional[int]] = ECA_RELEASED_KERNELS,
    position: str = 'after_conv3',
) -> List[dict]:
    """``blocks`` entries for the backbone: ECA in every block of stage
    ``i`` with ``kernel_sizes[i]`` (``None``: the adaptive rule)."""
    if len(kernel_sizes) != 4:
        raise ValueError(
            f'one kernel size per stage (4) expected, got '
            f'{tuple(kernel_sizes)}'
        )
    return [
        dict(
            cfg=dict(type='ECA', kernel_size=k),
            position=position,
            layers=(f'layer{i + 1}',),
        )
        for i, k in enumerate(kernel_sizes)
    ]


@MODELS.register_module()
class ECA(MotionBlock):
    """Efficient channel attention.

    Args:
        in_channels (int): ``C``; filled in by the backbone.
        kernel_size (int, optional): Odd size ``k`` of the channel conv.
            ``None`` uses :func:`eca_kernel_size` of ``in_channels``.
            Defaults to None.
        gamma (float): ``gamma`` of the adaptive rule. Defaults to 2.
        b (float): ``b`` of the adaptive rule. Defaults to 1.
        init_cfg (dict, optional): Replaces :meth:`default_init`
            (:class:`MotionBlock`). Defaults to None.

    Input and output ``(B, C, H, W)`` (any batch, e.g. ``N*T`` frames).
    """

    def __init__(
        self,
        in_channels: int,
        kernel_size: Optional[int] = None,
        gamma: float = 2,
        b: float = 1,
        init_cfg: Optional[dict] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        if kernel_size is None:
            kernel_size = eca_kernel_size(in_channels, gamma, b)
        if kernel_size < 1 or kernel_size % 2 != 1:
            raise ValueError(
                f'ECA kernel_size must be a positive odd '
                f'number, got {kernel_size}'
            )
        self.in_channels = in_channels
        self.kernel_size = kernel_size
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.conv = nn.Conv1d(
            1, 1, kernel_size, padding=kernel_size // 2, bias=False
        )

    def default_init(self) -> None:
        """PyTorch's default Conv1d init, as the released model (the ResNet
        init loop never reaches this Conv1d): U(-1/sqrt(k), 1/sqrt(k))."""
        self.conv.reset_parameters()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f'ECA expects (B, {self.in_channels}, H, W), '
                f'got shape {tuple(x.shape)}'
            )
        y = self.pool(x).flatten(1).unsqueeze(1)  # (B, 1, C)
        w = self.conv(y).sigmoid()  # (B, 1, C)
        return x * w.view(x.shape[0], self.in_channels, 1, 1)
