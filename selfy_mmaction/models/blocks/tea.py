"""TEA: Temporal Excitation and Aggregation (Li et al., CVPR 2020).

TEA replaces every bottleneck of a Res2Net-50 (26w x 4s) with
:class:`TEABottleneck` (the backbone is
:class:`~selfy_mmaction.models.backbones.TEARes2Net`):

* conv1 (1x1 + BN + ReLU) gives ``X`` with ``scale * width`` channels;
* ME, motion excitation (:class:`TEAMotionExcitation`): a channel gate from
  feature-level temporal differences, ``X + X * (sigmoid(.) - 0.5)``;
* MTA, multiple temporal aggregation: ``X`` is split into ``scale``
  fragments; fragments ``0..scale-2`` each get a learnable depthwise temporal
  conv (identity init) and a 3x3 conv + BN + ReLU, hierarchically (the
  previous output is added to the next fragment, except in the first block of
  a stage); the last fragment gets only a temporal conv initialised as a
  shift (half the channels read ``t+1``, half ``t-1``), then in a stage's
  first block a 3x3 average pool with the block's stride;
* concat, conv3 (1x1 + BN), + shortcut, ReLU.

Nothing is zero-initialised: the block is not the identity at init.
"""

from typing import Iterable, List, Optional, cast

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmcv.cnn import ConvModule
from mmengine.model.weight_init import constant_init, kaiming_init
from torch.utils import checkpoint as cp

from ...ops.temporal import TemporalConv1d, TemporalDifferenceUnit
from .base import MotionBlock


@MODELS.register_module()
class TEAMotionExcitation(MotionBlock):
    """TEA's motion excitation (ME): a channel gate from temporal differences.

    ``F = BN(conv1x1 C->C/r)(x)``, ``G = depthwise 3x3(F)``,
    ``D_t = G_{t+1} - F_t`` (``D_{T-1} = 0``), ``s = GAP(D)``,
    ``A = sigmoid(BN(conv1x1 C/r->C)(s)) - 0.5``, ``out = x + x * A``
    (each channel scaled by 0.5..1.5).

    Args:
        in_channels (int): ``C``.
        num_segments (int): ``T``.
        reduction (int): ``r``. Defaults to 16.
        init_cfg (dict, optional): Replaces :meth:`default_init`
            (:class:`MotionBlock`). Defaults to None.

    Input and output ``(N*T, C, H, W)``. Usable on its own through
    ``ResNetTSMWithBlocks`` (``position='after_conv1'``).
    """

    def __init__(
        self,
        in_channels: int,
        num_segments: int,
        reduction: int = 16,
        init_cfg: Optional[dict] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        self.difference = TemporalDifferenceUnit(
            in_channels, num_segments, reduction, steps=(1,)
        )
        self.expand = ConvModule(
            self.difference.channels,
            in_channels,
            1,
            bias=False,
            norm_cfg=dict(type='BN'),
            act_cfg=None,
        )

    def default_init(self) -> None:
        self.difference.init_weights()
        kaiming_init(self.expand.conv, mode='fan_out')
        constant_init(self.expand.bn, 1, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        (difference,) = self.difference(x)
        squeezed = difference.mean(dim=(2, 3), keepdim=True)
        gate = torch.sigmoid(self.expand(squeezed)) - 0.5
        return x + x * gate


class TEABottleneck(MotionBlock):
    """Res2Net bottleneck with TEA's ME and MTA.

    The signature is MMAction2's ``Bottleneck`` one (so ``make_res_layer``
    builds stages) plus the TEA/Res2Net arguments. ``width =
    floor(planes * base_width / 64)``; the block works on ``scale * width``
    channels between conv1 and conv3.

    Args:
        inplanes (int): Input channels.
        planes (int): Output channels are ``planes * 4``.
        stride (int): Stride of the 3x3 convs and of the average pool.
        dilation (int): Dilation of the 3x3 convs.
        downsample (nn.Module, optional): Projection shortcut. A block with
            one is the first block of its stage (Res2Net's ``stype='stage'``):
            no hierarchical sums, and the last fragment is average-pooled.
            ``make_res_layer`` gives the first block of every bottleneck
            stage a projection.
        style (str): Only ``'pytorch'`` (stride on the 3x3 convs).
        conv_cfg, norm_cfg, act_cfg (dict): As in MMAction2's ``Bottleneck``.
        with_cp (bool): Gradient checkpointing.
        num_segments (int): ``T``.
        base_width (int): Res2Net base width (26 for 26w).
        scale (int): Number of fragments (4 for 4s), at least 2.
        me_reduction (int): ME channel reduction. Defaults to 16.
        init_cfg (dict, optional): Replaces :meth:`default_init`
            (:class:`MotionBlock`). Defaults to None.

    Input ``(N*T, inplanes, H, W)``; output ``(N*T, 4*planes, H/s, W/s)``.
    """

    expansion = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        dilation: int = 1,
        downsample: Optional[nn.Module] = None,
        style: str = 'pytorch',
        conv_cfg: dict = dict(type='Conv'),
        norm_cfg: dict = dict(type='BN', requires_grad=True),
        act_cfg: dict = dict(type='ReLU', inplace=True),
        with_cp: bool = False,
        num_segments: int = 8,
        base_width: int = 26,
        scale: int = 4,
        me_reduction: int = 16,
        init_cfg: Optional[dict] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        if style != 'pytorch':
            raise ValueError(
                f'TEABottleneck strides its 3x3 convs (style '
                f"'pytorch'), got style={style!r}"
            )
        if scale < 2:
            raise ValueError(
                f'TEABottleneck needs scale >= 2 fragments, got scale={scale}'
            )
        width = planes * base_width // 64
        if width < 2:
            raise ValueError(
                f'fragment width floor({planes}*{base_width}/64)'
                f' = {width} is too small (needs >= 2)'
            )
        self.width = width
        self.scale = scale
        self.first_in_stage = downsample is not None
        self.with_cp = with_cp
        self.conv1 = ConvModule(
            inplanes,
            width * scale,
            1,
            bias=False,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg,
        )
        self.me = TEAMotionExcitation(
            width * scale, num_segments, me_reduction
        )
        # MTA: identity-initialised temporal convs on the convolved
        # fragments, a shift-initialised one on the last fragment
        self.temporal_convs = nn.ModuleList(
            [
                TemporalConv1d(width, num_segments, init='identity')
                for _ in range(scale - 1)
            ]
            + [
                TemporalConv1d(
                    width, num_segments, init='shift', fractions=(0.5, 0.5)
                )
            ]
        )
        self.convs = nn.ModuleList(
            [
                ConvModule(
                    width,
                    width,
                    3,
                    stride=stride,
                    padding=dilation,
                    dilation=dilation,
                    bias=False,
                    conv_cfg=conv_cfg,
                    norm_cfg=norm_cfg,
                    act_cfg=act_cfg,
                )
                for _ in range(scale - 1)
            ]
        )
        self.pool = (
            nn.AvgPool2d(3, stride=stride, padding=1)
            if self.first_in_stage
            else nn.Identity()
        )
        self.conv3 = ConvModule(
            width * scale,
            planes * self.expansion,
            1,
            bias=False,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=None,
        )
        self.downsample = downsample
        self.relu = nn.ReLU(inplace=True)

    def default_init(self) -> None:
        """Initialise the TEA layers (ME and temporal convs) only."""
        self.me.init_weights()
        for temporal_conv in cast(
            Iterable[TemporalConv1d], self.temporal_convs
        ):
            temporal_conv.init_weights()

    def _aggregate(self, x: torch.Tensor) -> torch.Tensor:
        """MTA on the excited map ``x``: ``(N*T, scale*width, H, W)``."""
        fragments = torch.split(x, self.width, dim=1)
        outs: List[torch.Tensor] = []
        for j, conv in enumerate(self.convs):
            u = fragments[j]
            if j > 0 and not self.first_in_stage:
                u = u + outs[-1]
            outs.append(conv(self.temporal_convs[j](u)))
        outs.append(self.pool(self.temporal_convs[-1](fragments[-1])))
        return torch.cat(outs, dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:

        def _inner_forward(x: torch.Tensor) -> torch.Tensor:
            out = self.conv3(self._aggregate(self.me(self.conv1(x))))
            identity = x if self.downsample is None else self.downsample(x)
            return out + identity

        if self.with_cp and x.requires_grad:
            out = cp.checkpoint(_inner_forward, x, use_reentrant=False)
        else:
            out = _inner_forward(x)
        return self.relu(out)
