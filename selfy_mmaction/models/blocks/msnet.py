"""MotionSqueeze (MSNet; Kwon et al., ECCV 2020).

One MS module after res3 (``position='after_stage', layers=('layer2',)`` of
:class:`ResNetTSMWithBlocks`) estimates a flow-like map between neighbouring
frames and adds its features to the stage output:

1. ``conv1x1 C->64 + BN + ReLU``, L2-normalised over channels.
2. Correlation of frame ``t`` with a ``(2r+1)^2`` window of frame ``t+1``
   (:func:`selfy_mmaction.ops.stss.local_correlation`), ReLU.
3. Confidence = max over the window; kernel soft-argmax: a Gaussian
   (``sigma``) centred on the argmax displacement multiplies the scores,
   ``softmax(temperature * .)`` over the window gives the expected
   displacement ``(u, v) = E[(dx, dy)] / r``.
4. ``(u, v, confidence)`` for the ``T-1`` pairs, the last pair repeated to
   give ``T`` frames.
5. Four depthwise-separable conv blocks (dw kxk + BN + ReLU, pw 1x1 + BN +
   ReLU): ``3 -> 16 -> 32 -> 64 -> C``.

``out = x + features`` (no ReLU after the add, no zero-init).
"""

from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmcv.cnn import ConvModule
from mmengine.model.weight_init import constant_init, kaiming_init

from ...ops.layout import to_ntchw
from ...ops.stss import l2_normalize, local_correlation
from .base import MotionBlock


def _separable(in_channels: int, out_channels: int, kernel_size: int):
    """Depthwise kxk + BN + ReLU, then pointwise 1x1 + BN + ReLU."""
    conv = dict(
        bias=False, norm_cfg=dict(type='BN'), act_cfg=dict(type='ReLU')
    )
    return nn.Sequential(
        ConvModule(
            in_channels,
            in_channels,
            kernel_size,
            padding=kernel_size // 2,
            groups=in_channels,
            **conv,
        ),
        ConvModule(in_channels, out_channels, 1, **conv),
    )


@MODELS.register_module()
class MotionSqueezeBlock(MotionBlock):
    """MotionSqueeze module on a stage output.

    Args:
        in_channels (int): ``C`` of the stage output; filled in by the
            backbone.
        num_segments (int): ``T`` (>= 2); filled in by the backbone.
        reduced_channels (int): Channels of the matched features.
            Defaults to 64.
        radius (int): Displacements ``-r..r`` in both directions (window
            ``2r+1``). Defaults to 7.
        sigma (float): Std of the Gaussian around the argmax, in pixels.
            Defaults to 5.
        temperature (float): Multiplies the scores before the softmax.
            Defaults to 100.
        refine_channels (Sequence[int]): Outputs of the first separable
            blocks; the last block maps to ``in_channels``.
            Defaults to ``(16, 32, 64)``.
        refine_kernel_sizes (Sequence[int]): Depthwise kernel of each
            separable block; one more entry than ``refine_channels``.
            Defaults to ``(7, 3, 3, 3)``.
        eps (float): Inside the square root of the L2 norm. Defaults to 1e-6.
        init_cfg (dict, optional): Replaces :meth:`default_init`
            (:class:`MotionBlock`). Defaults to None.

    Input and output ``(N*T, C, H, W)``.
    """

    def __init__(
        self,
        in_channels: int,
        num_segments: int,
        reduced_channels: int = 64,
        radius: int = 7,
        sigma: float = 5.0,
        temperature: float = 100.0,
        refine_channels: Sequence[int] = (16, 32, 64),
        refine_kernel_sizes: Sequence[int] = (7, 3, 3, 3),
        eps: float = 1e-6,
        init_cfg: Optional[dict] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        if num_segments < 2:
            raise ValueError(
                f'MotionSqueezeBlock matches neighbouring '
                f'frames: num_segments must be >= 2, got '
                f'{num_segments}'
            )
        if radius < 1:
            raise ValueError(f'radius must be >= 1, got {radius}')
        if len(refine_kernel_sizes) != len(refine_channels) + 1:
            raise ValueError(
                f'refine_kernel_sizes needs one entry per separable block '
                f'({len(refine_channels) + 1}), got '
                f'{tuple(refine_kernel_sizes)}'
            )
        self.num_segments = num_segments
        self.radius = radius
        self.sigma = sigma
        self.temperature = temperature
        self.eps = eps
        self.reduce = ConvModule(
            in_channels,
            reduced_channels,
            1,
            bias=False,
            norm_cfg=dict(type='BN'),
            act_cfg=dict(type='ReLU'),
        )
        channels = (3, *refine_channels, in_channels)
        self.refine = nn.Sequential(
            *(
                _separable(channels[i], channels[i + 1], k)
                for i, k in enumerate(refine_kernel_sizes)
            )
        )
        size = 2 * radius + 1
        offsets = torch.arange(size, dtype=torch.float32) - radius
        # displacement of each window index u * size + v: (dy, dx)
        self.register_buffer(
            'window_dy', offsets.repeat_interleave(size), persistent=False
        )
        self.register_buffer(
            'window_dx', offsets.repeat(size), persistent=False
        )

    def default_init(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                kaiming_init(m, mode='fan_out')
            elif isinstance(m, nn.BatchNorm2d):
                constant_init(m, 1, 0)

    def flow(self, x: torch.Tensor) -> torch.Tensor:
        """``(N*T, C, H, W)`` -> ``(N*T, 3, H, W)``: ``(u, v, confidence)``
        from frame ``t`` to ``t+1``, the last pair repeated."""
        t = self.num_segments
        feats = l2_normalize(
            to_ntchw(self.reduce(x), t, type(self).__name__),
            dim=2,
            eps=self.eps,
        )
        size = 2 * self.radius + 1
        # the T-1 pairs (t, t+1): frames 0..T-2 against frames 1..T-1
        corr = local_correlation(
            feats[:, :-1],
            feats[:, 1:],
            temporal_offsets=(0,),
            window=(size, size),
        )
        n, _, _, _, _, h, w = corr.shape
        corr = corr.reshape(n, t - 1, size * size, h, w).relu()
        confidence, peak = corr.max(dim=2, keepdim=True)
        dy = self.window_dy.to(corr.dtype).view(1, 1, -1, 1, 1)
        dx = self.window_dx.to(corr.dtype).view(1, 1, -1, 1, 1)
        gauss = torch.exp(
            -((dy - dy.flatten()[peak]) ** 2 + (dx - dx.flatten()[peak]) ** 2)
            / (2 * self.sigma**2)
        )
        prob = torch.softmax(self.temperature * gauss * corr, dim=2)
        u = (prob * dx).sum(2, keepdim=True) / self.radius
        v = (prob * dy).sum(2, keepdim=True) / self.radius
        flow = torch.cat([u, v, confidence], dim=2)
        flow = torch.cat([flow, flow[:, -1:]], dim=1)
        return flow.reshape(n * t, 3, h, w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.refine(self.flow(x))
