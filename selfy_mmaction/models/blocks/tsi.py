"""TSI: Temporal Saliency Integration (Su, Feng, Wang, Gan, Wu, Qiao, arXiv
2106.01088, latest version: "Salient Motion Excitation" (SME) and
"Cross-perception Temporal Integration" (CTI)).

No public code exists and the paper could not be read for this
implementation: it is designed from the abstract ("spatial-level local-global
motion modelling", "saliency alignment" then "pyramidal motion modelling"
between adjacent frames against a misaligned background; "a group of
separate 1D convolutions" of different perceptions fused with attention,
"limited additional parameters"). Every choice below that the abstract
leaves open is ours and is listed here; check them against the paper before
quoting numbers.

A TSI bottleneck is a TEA-like ResNet bottleneck (``ResNetWithBlocks``, no
TSM shift: CTI is the temporal model):
``conv1 -> SME (after_conv1) -> CTI (wrap_conv2: temporal mixing, then the
ImageNet 3x3 conv) -> conv3``, in all 16 bottlenecks of ResNet-50.

Open choices (ours):

* SME (:class:`TSIMotionExcitation`), on the ``C`` channels after conv1:

  - reduction ``r = 16`` (TEA's ME): ``F = BN(conv1x1 C -> C/r)(x)``;
  - saliency alignment = one global soft translation per adjacent pair
    (camera motion is mostly global): cosine similarities of ``F_t`` with
    ``F_{t+1}`` displaced by ``d`` in a ``3 x 3`` window (one feature pixel,
    dilation 1), averaged over all positions; ``w = softmax_d(s * cost)``
    with a learnable scale ``s`` (init 10); ``F_{t+1}`` is aligned as
    ``sum_d w(d) F_{t+1}(p + d)`` (zero outside the frame);
  - ``D_t = aligned F_{t+1} - F_t`` (``D_{T-1} = 0``, as TEA);
  - pyramid: scales ``(1, 2, 4)``; adaptive average pooling to
    ``ceil(H/s) x ceil(W/s)``, a 3x3 conv ``C/r -> C/r`` (no bias, one per
    scale), bilinear upsampling back, mean over scales;
  - map: ``A = sigmoid(BN(conv1x1 C/r -> 1)) - 0.5``, one spatial map per
    frame shared by all channels; ``out = x + x * A``. The BN starts at
    ``gamma = beta = 0``: SME is the identity at init.

* CTI (:class:`TSITemporalIntegration`), on the input of the 3x3 conv:

  - branches ``(kernel, dilation) = (3, 1), (3, 2), (3, 3)`` (temporal
    receptive fields 3, 5, 7 frames), each a depthwise temporal conv on all
    ``C`` channels (zero padding), initialised as the identity;
  - SK-style attention per clip and channel: ``u = mean_{T,H,W}(sum_k
    y_k)``, ``FC C -> max(C/16, 32)`` + ReLU + ``FC -> K*C`` (biases; the
    last FC zero-initialised: uniform weights at init), softmax over the
    ``K`` branches; ``out = net(sum_k a_k y_k)``. Identity branches with
    weights summing to 1: CTI is the ImageNet 3x3 conv at init.

With both, a TSI ResNet-50 starts as the plain ImageNet ResNet-50 (TSN).
"""

import math
from typing import Iterable, Optional, Sequence, Tuple, cast

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmcv.cnn import ConvModule
from mmengine.model.weight_init import constant_init, kaiming_init

from ...ops.layout import to_ntchw
from ...ops.stss import l2_normalize, local_correlation
from ...ops.temporal import TemporalConv1d, temporal_difference
from .base import MotionBlock


def global_soft_alignment(
    features: torch.Tensor,
    num_segments: int,
    scale: torch.Tensor,
    window: int = 3,
) -> torch.Tensor:
    """Align frame ``t+1`` to frame ``t`` by one soft global translation.

    ``cost_t(d) = mean_p <f_t(p), f_{t+1}(p + d)>`` on L2-normalised
    channels, ``d`` in a ``window x window`` grid of one-pixel steps;
    ``w_t = softmax_d(scale * cost_t)``; ``a_{t+1}(p) = sum_d w_t(d)
    f_{t+1}(p + d)`` (zero outside the frame).

    Args:
        features (Tensor): ``(N*T, C, H, W)``.
        num_segments (int): ``T``.
        scale (Tensor): Scalar inverse temperature.
        window (int): Odd window size. Defaults to 3.

    Returns:
        Tensor: ``(N*T, C, H, W)``; frame ``t >= 1`` holds ``f_t`` aligned to
        frame ``t-1``, frame 0 holds ``f_0`` (unused by forward differences).
    """
    f5 = to_ntchw(features, num_segments, 'global_soft_alignment')
    n, t, c, h, w = f5.shape
    if t < 2:
        return features
    unit = l2_normalize(f5)
    cost = local_correlation(
        unit[:, :-1], unit[:, 1:], (0,), (window, window)
    )  # (N, T-1, 1, U, V, H, W)
    cost = cost.mean(dim=(-2, -1)).reshape(n * (t - 1), window * window)
    weights = torch.softmax(scale * cost, dim=1)
    kernels = weights.view(n * (t - 1), 1, window, window).repeat_interleave(
        c, dim=0
    )
    nxt = f5[:, 1:].reshape(1, n * (t - 1) * c, h, w)
    aligned = F.conv2d(
        nxt, kernels.to(nxt.dtype), padding=window // 2, groups=n * (t - 1) * c
    ).view(n, t - 1, c, h, w)
    return torch.cat([f5[:, :1], aligned], dim=1).view_as(features)


@MODELS.register_module()
class TSIMotionExcitation(MotionBlock):
    """TSI's SME: a spatial excitation map from aligned adjacent-frame
    differences at several scales (open choices: module docstring).

    Args:
        in_channels (int): ``C``; filled in by the backbone.
        num_segments (int): ``T``; filled in by the backbone.
        reduction (int): ``r``. Defaults to 16.
        align_window (int): Odd window of the global alignment, in feature
            pixels. Defaults to 3.
        align_scale (float): Initial inverse temperature of the alignment
            softmax (learnable). Defaults to 10.
        scales (Sequence[int]): Pooling factors of the motion pyramid.
            Defaults to ``(1, 2, 4)``.
        init_cfg (dict, optional): Replaces :meth:`default_init`
            (:class:`MotionBlock`). Defaults to None.

    Input and output ``(N*T, C, H, W)``.
    """

    def __init__(
        self,
        in_channels: int,
        num_segments: int,
        reduction: int = 16,
        align_window: int = 3,
        align_scale: float = 10.0,
        scales: Sequence[int] = (1, 2, 4),
        init_cfg: Optional[dict] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        if in_channels // reduction < 1:
            raise ValueError(
                f'in_channels={in_channels} is smaller than '
                f'reduction={reduction}'
            )
        if align_window < 1 or align_window % 2 != 1:
            raise ValueError(
                f'align_window must be a positive odd size, got {align_window}'
            )
        if not scales or any(int(s) < 1 for s in scales):
            raise ValueError(
                f'scales must be positive integers, got {tuple(scales)}'
            )
        self.num_segments = num_segments
        self.channels = in_channels // reduction
        self.align_window = align_window
        self.align_scale_init = float(align_scale)
        self.scales = tuple(int(s) for s in scales)
        self.reduce = ConvModule(
            in_channels,
            self.channels,
            1,
            bias=False,
            norm_cfg=dict(type='BN'),
            act_cfg=None,
        )
        self.align_scale = nn.Parameter(torch.tensor(self.align_scale_init))
        self.pyramid = nn.ModuleList(
            nn.Conv2d(self.channels, self.channels, 3, padding=1, bias=False)
            for _ in self.scales
        )
        self.gate = ConvModule(
            self.channels,
            1,
            1,
            bias=False,
            norm_cfg=dict(type='BN'),
            act_cfg=None,
        )

    def default_init(self) -> None:
        kaiming_init(self.reduce.conv, mode='fan_out')
        constant_init(self.reduce.bn, 1, 0)
        with torch.no_grad():
            self.align_scale.fill_(self.align_scale_init)
        for conv in self.pyramid:
            kaiming_init(conv, mode='fan_out')
        kaiming_init(self.gate.conv, mode='fan_out')
        constant_init(self.gate.bn, 0, 0)  # A = 0: the identity at init

    def motion(self, x: torch.Tensor) -> torch.Tensor:
        """``(N*T, C, H, W)`` -> pyramid motion features
        ``(N*T, C/r, H, W)``."""
        f = self.reduce(x)
        aligned = global_soft_alignment(
            f, self.num_segments, self.align_scale, self.align_window
        )
        d = temporal_difference(f, self.num_segments, 1, neighbour=aligned)
        h, w = d.shape[-2:]
        levels = []
        for s, conv in zip(self.scales, self.pyramid):
            if s == 1:
                levels.append(conv(d))
                continue
            pooled = F.adaptive_avg_pool2d(
                d, (math.ceil(h / s), math.ceil(w / s))
            )
            levels.append(
                F.interpolate(
                    conv(pooled),
                    size=(h, w),
                    mode='bilinear',
                    align_corners=False,
                )
            )
        return sum(levels) / len(levels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        excitation = torch.sigmoid(self.gate(self.motion(x))) - 0.5
        return x + x * excitation


@MODELS.register_module()
class TSITemporalIntegration(MotionBlock):
    """TSI's CTI around a bottleneck's 3x3 ``ConvModule``: depthwise temporal
    convs of several kernels/dilations, fused by SK-style attention, then the
    original conv (open choices: module docstring).

    Args:
        net (nn.Module): The original 3x3 ``ConvModule``; filled in by the
            backbone (``position='wrap_conv2'``).
        num_segments (int): ``T``; filled in by the backbone.
        branches (Sequence[tuple[int, int]]): ``(kernel_size, dilation)`` per
            branch. Defaults to ``((3, 1), (3, 2), (3, 3))``.
        reduction (int): Attention reduction. Defaults to 16.
        min_hidden (int): Minimum width of the attention's hidden layer.
            Defaults to 32.
        init_cfg (dict, optional): Replaces :meth:`default_init`
            (:class:`MotionBlock`). Defaults to None.

    Input ``(N*T, C_in, H, W)``; output ``net``'s output.
    """

    def __init__(
        self,
        net: nn.Module,
        num_segments: int,
        branches: Sequence[Tuple[int, int]] = ((3, 1), (3, 2), (3, 3)),
        reduction: int = 16,
        min_hidden: int = 32,
        init_cfg: Optional[dict] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        conv = getattr(net, 'conv', None)
        if not isinstance(conv, nn.Conv2d):
            raise TypeError(
                f'TSITemporalIntegration wraps a ConvModule '
                f'holding an nn.Conv2d (position wrap_conv2), '
                f'got {type(net).__name__} with conv '
                f'{type(conv).__name__}'
            )
        if len(branches) < 2:
            raise ValueError(
                f'CTI fuses at least two branches, got {tuple(branches)}'
            )
        channels = conv.in_channels
        self.num_segments = num_segments
        self.branch_specs = tuple((int(k), int(d)) for k, d in branches)
        self.branches = nn.ModuleList(
            TemporalConv1d(
                channels, num_segments, k, init='identity', dilation=d
            )
            for k, d in self.branch_specs
        )
        hidden = max(channels // reduction, min_hidden)
        self.attention = nn.Sequential(
            nn.Linear(channels, hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, len(self.branch_specs) * channels),
        )
        self.net = net

    def default_init(self) -> None:
        """Initialise the new layers only; ``net`` keeps its weights."""
        for branch in cast(Iterable[TemporalConv1d], self.branches):
            branch.init_weights()
        kaiming_init(self.attention[0], mode='fan_out')
        constant_init(self.attention[2], 0)

    def integrate(self, x: torch.Tensor) -> torch.Tensor:
        """The attention-weighted sum of the branches, ``(N*T, C, H, W)``."""
        ys = torch.stack(
            [to_ntchw(b(x), self.num_segments) for b in self.branches], 1
        )  # (N, K, T, C, H, W)
        n, k, _, c = ys.shape[:4]
        squeezed = ys.sum(1).mean(dim=(1, 3, 4))  # (N, C)
        weights = torch.softmax(self.attention(squeezed).view(n, k, c), 1)
        return (ys * weights.view(n, k, 1, c, 1, 1)).sum(1).view_as(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.integrate(x))
