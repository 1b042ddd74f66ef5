"""TDN: Temporal Difference Networks (Wang et al., CVPR 2021).

Each segment is a snippet of ``L = 5`` consecutive frames.

* S-TDM, short-term TDM (:class:`TDNShortTermTDM`): stacked RGB differences
  of a snippet through a small stem; the backbone
  (:class:`~selfy_mmaction.models.backbones.TDNResNet`) feeds them through a
  copy of layer1 and fuses both maps into the RGB path of the centre frame.
* L-TDM, long-term TDM (:class:`TDNLongTermTDM`): after conv1 of every
  bottleneck of layer2-4, a per-pixel gate from forward and backward
  feature differences between segments, each refined at two scales.
* A learnable temporal shift (:class:`TDNLearnableShift`) after the L-TDM.

Nothing is zero-initialised: the blocks are not the identity at init.
"""

import copy
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmcv.cnn import ConvModule
from mmengine.model.weight_init import constant_init, kaiming_init

from ...ops.temporal import TemporalConv1d, TemporalDifferenceUnit
from .base import MotionBlock


def _init_conv_modules(module: nn.Module):
    """Kaiming (fan_out) convs and unit BNs of every ``ConvModule`` below."""
    for m in module.modules():
        if isinstance(m, ConvModule):
            kaiming_init(m.conv, mode='fan_out')
            if m.with_norm:
                constant_init(m.bn, 1, 0)


@MODELS.register_module()
class TDNShortTermTDM(MotionBlock):
    """Stem of TDN's short-term TDM on the RGB differences of a snippet.

    ``D = concat(I_2 - I_1, ..., I_L - I_{L-1})`` (``3(L-1)`` channels) ->
    AvgPool 2x2 -> conv 7x7 stride 2 + BN + ReLU -> MaxPool 3x3 stride 2.

    Args:
        snippet_len (int): ``L``, frames per snippet. Defaults to 5.
        in_channels (int): Channels of a frame. Defaults to 3.
        out_channels (int): Defaults to 64 (the ResNet stem's width).
        conv_cfg, norm_cfg, act_cfg (dict): For the 7x7 ``ConvModule``.
        init_cfg (dict, optional): Replaces :meth:`default_init`
            (:class:`MotionBlock`). Defaults to None.

    Input ``(N*T, L, C, H, W)``; output ``(N*T, out_channels, H/8, W/8)``.
    """

    def __init__(
        self,
        snippet_len: int = 5,
        in_channels: int = 3,
        out_channels: int = 64,
        conv_cfg: dict = dict(type='Conv'),
        norm_cfg: dict = dict(type='BN'),
        act_cfg: dict = dict(type='ReLU', inplace=True),
        init_cfg: Optional[dict] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        if snippet_len < 2:
            raise ValueError(
                f'snippet_len must be >= 2 to take differences,'
                f' got {snippet_len}'
            )
        self.snippet_len = snippet_len
        self.in_channels = in_channels
        self.pool = nn.AvgPool2d(2, stride=2)
        self.conv = ConvModule(
            in_channels * (snippet_len - 1),
            out_channels,
            7,
            stride=2,
            padding=3,
            bias=False,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg,
        )
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)

    def default_init(self) -> None:
        _init_conv_modules(self)

    def forward(self, snippets: torch.Tensor) -> torch.Tensor:
        expected = (self.snippet_len, self.in_channels)
        if snippets.dim() != 5 or tuple(snippets.shape[1:3]) != expected:
            raise ValueError(
                f'TDNShortTermTDM expects snippets (N*T, {self.snippet_len}, '
                f'{self.in_channels}, H, W), got shape '
                f'{tuple(snippets.shape)}'
            )
        nt, _, _, h, w = snippets.shape
        differences = snippets[:, 1:] - snippets[:, :-1]
        differences = differences.reshape(nt, -1, h, w)
        return self.maxpool(self.conv(self.pool(differences)))


@MODELS.register_module()
class TDNLongTermTDM(MotionBlock):
    """TDN's long-term TDM: per-pixel excitation from feature differences
    with the next and the previous segment.

    ``F = BN(conv1x1 C->C/r)(x)``, ``G = depthwise 3x3(F)``;
    ``D+_t = G_{t+1} - F_t`` (0 at ``T-1``), ``D-_t = G_{t-1} - F_t``
    (0 at 0). For each ``D``: ``y = (D + up(BN(conv3x3(AvgPool2x2(D)))) +
    BN'(conv3x3'(D))) / 3`` (both 3x3 convs full ``C/r -> C/r``, shared by the
    two directions), ``A = sigmoid(BN(conv1x1 C/r->C)(y)) - 0.5`` (shared);
    ``out = x + x * (A+ + A-) / 2``.

    The official code feeds the backward full-scale branch the forward
    branch's output (``conv3_smallscale4(y_forward_smallscale4)``); here both
    directions follow the formula above (same FLOPs and parameters).

    Args:
        in_channels (int): ``C``.
        num_segments (int): ``T``.
        reduction (int): ``r``. Defaults to 16.
        init_cfg (dict, optional): Replaces :meth:`default_init`
            (:class:`MotionBlock`). Defaults to None.

    Input and output ``(N*T, C, H, W)``, ``H, W >= 2``.
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
            in_channels, num_segments, reduction, steps=(1, -1)
        )
        channels = self.difference.channels
        bn = dict(type='BN')
        self.pool = nn.AvgPool2d(2, stride=2)
        self.coarse_conv = ConvModule(
            channels,
            channels,
            3,
            padding=1,
            bias=False,
            norm_cfg=bn,
            act_cfg=None,
        )
        self.fine_conv = ConvModule(
            channels,
            channels,
            3,
            padding=1,
            bias=False,
            norm_cfg=bn,
            act_cfg=None,
        )
        self.expand = ConvModule(
            channels, in_channels, 1, bias=False, norm_cfg=bn, act_cfg=None
        )

    def default_init(self) -> None:
        self.difference.init_weights()
        _init_conv_modules(self)

    def _gate(self, difference: torch.Tensor) -> torch.Tensor:
        coarse = self.coarse_conv(self.pool(difference))
        coarse = F.interpolate(
            coarse, size=difference.shape[-2:], mode='nearest'
        )
        multi_scale = (difference + coarse + self.fine_conv(difference)) / 3
        return torch.sigmoid(self.expand(multi_scale)) - 0.5

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or min(x.shape[-2:]) < 2:
            raise ValueError(
                f'TDNLongTermTDM needs (N*T, C, H, W) with H, W '
                f'>= 2 for its 2x2 average pool, got shape '
                f'{tuple(x.shape)}'
            )
        gates = [self._gate(d) for d in self.difference(x)]
        return x + x * (sum(gates) / len(gates))


@MODELS.register_module()
class TDNLearnableShift(TemporalConv1d, MotionBlock):
    """TDN's ShiftModule: a learnable depthwise temporal conv (kernel 3)
    initialised as TSM's shift (``C/8`` channels read ``t+1``, ``C/8`` read
    ``t-1``, the rest ``t``).

    Args:
        in_channels (int): ``C``.
        num_segments (int): ``T``.
        fractions (Sequence[float]): Channels that start reading ``t+1`` and
            ``t-1``. Defaults to ``(1/8, 1/8)``.
        init_cfg (dict, optional): Replaces :meth:`default_init`
            (:class:`MotionBlock`). Defaults to None.

    Input and output ``(N*T, C, H, W)``.
    """

    def __init__(
        self,
        in_channels: int,
        num_segments: int,
        fractions: Sequence[float] = (0.125, 0.125),
        init_cfg: Optional[dict] = None,
    ):
        super().__init__(
            in_channels,
            num_segments,
            kernel_size=3,
            init='shift',
            fractions=fractions,
            learnable=True,
        )
        # nn.Conv1d's constructor reached BaseModule's without it
        self.init_cfg = copy.deepcopy(init_cfg)

    def init_weights(self) -> None:
        MotionBlock.init_weights(self)

    def default_init(self) -> None:
        """TSM's shift pattern (:class:`TemporalConv1d`'s init)."""
        TemporalConv1d.init_weights(self)
