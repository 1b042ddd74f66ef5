"""TCP: Temporal-attentive Covariance Pooling (Gao et al., NeurIPS 2021).

TCP replaces the GAP + fc of a 2D video network (TSN, TSM, TEA). The last
ResNet stage runs at stride 1 (``strides=(1, 2, 2, 1)``), so at 224 px the
head sees ``(N*T, 2048, 14, 14)``:

1. reduction: 1x1 conv 2048->256 + BN + ReLU, 1x1 conv 256->128 + BN + ReLU;
2. temporal attention on ``C=128`` (:class:`TCPTemporalAttention`): TSA
   (spatial attention from the two previous frames), TCA (channel gates from
   frame-difference GAPs) and a circular temporal conv, zero-initialised so
   the whole attention is the identity at init;
3. one ``C x C`` covariance over all ``T*H*W`` positions of the clip
   (``level='video'``) or one per frame (``level='frame'``, logits
   averaged);
4. matrix square root by trace-normalised Newton-Schulz iterations
   (:func:`newton_schulz_sqrt`, float32 even under AMP);
5. upper triangle (``C(C+1)/2`` = 8256 values for 128), dropout, fc.

Like ``TSMHead`` the head reshapes by its own ``num_segments`` and ignores
Recognizer2D's ``num_segs``; several views per sample give ``(N*views, K)``
scores that ``predict_by_feat`` averages (``average_clips``).
"""

import math
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.models.heads.base import BaseHead
from mmaction.registry import MODELS
from mmcv.cnn import ConvModule
from mmengine.model.weight_init import constant_init, kaiming_init, normal_init

from ...ops.layout import check_segments, to_ntchw


def _at_least_float32(x: torch.Tensor) -> torch.Tensor:
    """float16/bfloat16 -> float32; float32/float64 unchanged."""
    return x.to(torch.promote_types(x.dtype, torch.float32))


def covariance(x: torch.Tensor) -> torch.Tensor:
    """Covariance of ``M`` samples of ``C`` features.

    Args:
        x (Tensor): ``(B, C, M)``.

    Returns:
        Tensor: ``(B, C, C)``, ``(1/M) (x - mean)(x - mean)^T``; the same as
        ``x Ibar x^T`` with the centring matrix ``Ibar = (I - 11^T/M)/M``,
        without the ``M x M`` matrix.
    """
    if x.dim() != 3:
        raise ValueError(
            f'covariance expects (B, C, M), got shape {tuple(x.shape)}'
        )
    centred = x - x.mean(dim=2, keepdim=True)
    return centred @ centred.transpose(1, 2) / x.shape[2]


def newton_schulz_sqrt(
    cov: torch.Tensor, num_iters: int = 3, eps: float = 1e-5
) -> torch.Tensor:
    """Approximate square root of symmetric PSD matrices (iSQRT).

    ``A = cov / tr``, ``Y_0 = A``, ``Z_0 = I``;
    ``Y_{k+1} = Y_k P_k``, ``Z_{k+1} = P_k Z_k`` with
    ``P_k = (3I - Z_k Y_k) / 2``; returns ``sqrt(tr) * Y_n`` with
    ``tr = trace(cov)``, as the authors' iSQRT. The one guard: ``tr`` is
    clamped to at least ``eps``, so a zero covariance (e.g. identical
    features everywhere) gives zeros instead of the authors' 0/0 = NaN;
    wherever ``trace(cov) >= eps`` the result is the authors' exactly.
    Plain autograd (every step is a matrix product). Runs with autocast
    disabled, in float32 (float64 stays float64).

    Args:
        cov (Tensor): ``(B, C, C)``.
        num_iters (int): Newton-Schulz iterations ``n``. Defaults to 3.
        eps (float): Smallest trace used for the normalisation.
            Defaults to 1e-5.

    Returns:
        Tensor: ``(B, C, C)`` in float32 or float64.
    """
    if cov.dim() != 3 or cov.shape[1] != cov.shape[2]:
        raise ValueError(
            f'newton_schulz_sqrt expects (B, C, C), got shape '
            f'{tuple(cov.shape)}'
        )
    if num_iters < 1:
        raise ValueError(f'num_iters must be >= 1, got {num_iters}')
    with torch.autocast(device_type=cov.device.type, enabled=False):
        cov = _at_least_float32(cov)
        trace = cov.diagonal(dim1=1, dim2=2).sum(-1).clamp(min=eps)
        a = cov / trace[:, None, None]
        eye3 = 3 * torch.eye(a.shape[1], dtype=a.dtype, device=a.device)
        y, z = a, None
        for k in range(num_iters):
            p = 0.5 * (eye3 - y if z is None else eye3 - z @ y)
            y = y @ p
            if k < num_iters - 1:  # the last Z is never used
                z = p if z is None else p @ z
        return y * trace.sqrt()[:, None, None]


def upper_triangle(x: torch.Tensor) -> torch.Tensor:
    """``(B, C, C)`` -> ``(B, C(C+1)/2)``: the upper triangle, row by row."""
    rows, cols = torch.triu_indices(x.shape[1], x.shape[2], device=x.device)
    return x[:, rows, cols]


class TemporalSelfAttention(nn.Module):
    """TSA: frame ``t`` attends spatially with a map computed from frames
    ``t-1`` and ``t-2`` (the first frame stands in for missing ones).

    ``A_t = softmax(q(x_{t-1})^T k(x_{t-2}) / sqrt(C))`` over ``HW x HW``
    (each row sums to one), ``out_t = x_t + BN(v(x_t) A_t^T)``, with 1x1
    convs ``q, k, v`` (bias) and BN gamma 0 (the identity at init).

    Args:
        channels (int): ``C``.
        num_segments (int): ``T``.

    Input and output ``(N*T, C, H, W)``.
    """

    def __init__(self, channels: int, num_segments: int):
        super().__init__()
        self.num_segments = num_segments
        self.query = nn.Conv2d(channels, channels, 1)  # on x_{t-1}
        self.key = nn.Conv2d(channels, channels, 1)  # on x_{t-2}
        self.value = nn.Conv2d(channels, channels, 1)  # on x_t
        self.bn = nn.BatchNorm2d(channels)

    def init_weights(self):
        for conv in (self.query, self.key, self.value):
            kaiming_init(conv, mode='fan_out', bias=0)
        constant_init(self.bn, 0, 0)

    def _previous(self, x: torch.Tensor, step: int) -> torch.Tensor:
        """``x_{max(t-step, 0)}`` for every ``t``, ``(N*T, C, H, W)``."""
        x5 = to_ntchw(x, self.num_segments, type(self).__name__)
        index = (
            torch.arange(self.num_segments, device=x.device) - step
        ).clamp(min=0)
        return x5[:, index].reshape(x.shape)

    def forward(self, x):
        nt, c, h, w = x.shape
        q = self.query(self._previous(x, 1)).flatten(2)  # (NT, C, HW)
        k = self.key(self._previous(x, 2)).flatten(2)
        v = self.value(x).flatten(2)
        attn = torch.softmax(q.transpose(1, 2) @ k / math.sqrt(c), dim=-1)
        out = (v @ attn.transpose(1, 2)).view(nt, c, h, w)
        return x + self.bn(out)


class TemporalChannelAttention(nn.Module):
    """TCA: channel gates from frame differences of the spatial means.

    ``g_t = GAP(x_t)``, ``d1_t = g_t - g_{t-1}``, ``d2_t = (g_t - g_{t-2})/2``
    (circular in ``t``); ``gate = (sigmoid(mlp(d1)) + sigmoid(mlp(d2))) / 2``
    with one MLP ``C -> expansion*C -> C`` (ReLU between).

    Args:
        channels (int): ``C``.
        num_segments (int): ``T``.
        expansion (int): MLP hidden width factor. Defaults to 4.

    Input ``(N*T, C, H, W)``; output the gates ``(N*T, C, 1, 1)``.
    """

    def __init__(self, channels: int, num_segments: int, expansion: int = 4):
        super().__init__()
        self.num_segments = num_segments
        self.mlp = nn.Sequential(
            nn.Linear(channels, expansion * channels),
            nn.ReLU(inplace=True),
            nn.Linear(expansion * channels, channels),
        )

    def init_weights(self):
        for fc in (self.mlp[0], self.mlp[2]):
            normal_init(fc, std=0.01, bias=0)

    def forward(self, x):
        g = to_ntchw(x, self.num_segments, type(self).__name__).mean((3, 4))
        d1 = g - g.roll(1, dims=1)
        d2 = (g - g.roll(2, dims=1)) / 2
        gate = (torch.sigmoid(self.mlp(d1)) + torch.sigmoid(self.mlp(d2))) / 2
        return gate.reshape(x.shape[0], x.shape[1], 1, 1)


class TCPTemporalAttention(nn.Module):
    """TSA, TCA and the temporal conv of TCP.

    ``a = TSA(x)`` (or ``x``), ``a = a * TCA(x)`` (if ``with_tca``),
    ``out = ReLU(tconv(a) + x)`` with a Conv3d ``C -> C`` of kernel
    ``(T/2+1, 1, 1)``, circular padding ``(k-1)//2`` in time and zero weights,
    so that the block is the identity at init on ``x >= 0`` (the reduction
    ends with a ReLU). Without ``with_tconv`` the output is ``a``.

    Args:
        channels (int): ``C``.
        num_segments (int): ``T``.
        with_tsa (bool): Use TSA. Defaults to True.
        with_tca (bool): Use TCA. Defaults to True.
        with_tconv (bool): Use the temporal conv. Defaults to True.
        tca_expansion (int): TCA MLP width factor. Defaults to 4.

    Input and output ``(N*T, C, H, W)``.
    """

    def __init__(
        self,
        channels: int,
        num_segments: int,
        with_tsa: bool = True,
        with_tca: bool = True,
        with_tconv: bool = True,
        tca_expansion: int = 4,
    ):
        super().__init__()
        self.num_segments = num_segments
        self.tsa = (
            TemporalSelfAttention(channels, num_segments) if with_tsa else None
        )
        self.tca = (
            TemporalChannelAttention(channels, num_segments, tca_expansion)
            if with_tca
            else None
        )
        self.tconv = None
        if with_tconv:
            k = num_segments // 2 + 1
            self.tconv = nn.Conv3d(
                channels,
                channels,
                (k, 1, 1),
                padding=((k - 1) // 2, 0, 0),
                padding_mode='circular',
            )

    def init_weights(self):
        for part in (self.tsa, self.tca):
            if part is not None:
                part.init_weights()
        if self.tconv is not None:
            constant_init(self.tconv, 0, 0)

    def forward(self, x):
        check_segments(x, self.num_segments, type(self).__name__)
        att = x if self.tsa is None else self.tsa(x)
        if self.tca is not None:
            att = att * self.tca(x)
        if self.tconv is None:
            return att
        nt, c, h, w = x.shape
        a5 = att.view(nt // self.num_segments, self.num_segments, c, h, w)
        mixed = self.tconv(a5.transpose(1, 2)).transpose(1, 2)
        return F.relu(mixed.reshape(x.shape) + x)


@MODELS.register_module()
class TCPHead(BaseHead):
    """Temporal-attentive covariance pooling head.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Backbone channels. Defaults to 2048.
        num_segments (int): ``T`` (frames per view). Defaults to 8.
        reduce_channels (Sequence[int]): Widths of the 1x1 conv + BN + ReLU
            reduction. Defaults to ``(256, 128)``.
        with_tsa (bool): Temporal self-attention. Defaults to True.
        with_tca (bool): Temporal channel attention. Defaults to True.
        with_tconv (bool): Temporal conv after the attention.
            Defaults to True. All three False gives plain (iSQRT)
            covariance pooling.
        tca_expansion (int): TCA MLP width factor. Defaults to 4.
        level (str): ``'video'``: one covariance over ``T*H*W`` positions;
            ``'frame'``: one per frame, logits averaged. Defaults to
            ``'video'``.
        num_iters (int): Newton-Schulz iterations. Defaults to 3.
        dropout_ratio (float): Dropout before the fc. Defaults to 0.5.
        init_std (float): Std of the fc init. Defaults to 0.001.
        **kwargs: ``BaseHead`` arguments (``loss_cls``, ``average_clips``,
            ``label_smooth_eps`` ...).

    Input ``(N*views*T, in_channels, H, W)``; output ``(N*views,
    num_classes)``.
    """

    def __init__(
        self,
        num_classes: int,
        in_channels: int = 2048,
        num_segments: int = 8,
        reduce_channels: Sequence[int] = (256, 128),
        with_tsa: bool = True,
        with_tca: bool = True,
        with_tconv: bool = True,
        tca_expansion: int = 4,
        level: str = 'video',
        num_iters: int = 3,
        dropout_ratio: float = 0.5,
        init_std: float = 0.001,
        **kwargs,
    ):
        super().__init__(num_classes, in_channels, **kwargs)
        if level not in ('video', 'frame'):
            raise ValueError(
                f"level must be 'video' or 'frame', got {level!r}"
            )
        if not reduce_channels:
            raise ValueError('reduce_channels must name at least one width')
        self.num_segments = num_segments
        self.level = level
        self.num_iters = num_iters
        self.init_std = init_std
        widths = [in_channels, *reduce_channels]
        self.reduce = nn.Sequential(
            *[
                ConvModule(
                    cin,
                    cout,
                    1,
                    bias=False,
                    norm_cfg=dict(type='BN'),
                    act_cfg=dict(type='ReLU', inplace=True),
                )
                for cin, cout in zip(widths[:-1], widths[1:])
            ]
        )
        channels = widths[-1]
        self.attention = TCPTemporalAttention(
            channels,
            num_segments,
            with_tsa,
            with_tca,
            with_tconv,
            tca_expansion,
        )
        self.dropout = (
            nn.Dropout(dropout_ratio) if dropout_ratio > 0 else nn.Identity()
        )
        self.fc_cls = nn.Linear(channels * (channels + 1) // 2, num_classes)

    def init_weights(self):
        for conv_module in self.reduce:
            kaiming_init(conv_module.conv, mode='fan_out')
            constant_init(conv_module.bn, 1, 0)
        self.attention.init_weights()
        normal_init(self.fc_cls, std=self.init_std, bias=0)

    def pool(self, x: torch.Tensor) -> torch.Tensor:
        """Reduction, attention and covariance square root.

        Input ``(N*T, in_channels, H, W)``; output ``(N, C, C)``
        (``level='video'``) or ``(N*T, C, C)`` (``'frame'``), float32.
        """
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f'TCPHead expects (N*T, {self.in_channels}, H, '
                f'W), got shape {tuple(x.shape)}'
            )
        n = check_segments(x, self.num_segments, 'TCPHead')
        x = self.attention(self.reduce(x))
        _, c, h, w = x.shape
        with torch.autocast(device_type=x.device.type, enabled=False):
            x = _at_least_float32(x)
            if self.level == 'video':
                x = x.view(n, self.num_segments, c, h * w).transpose(1, 2)
                x = x.reshape(n, c, self.num_segments * h * w)
            else:
                x = x.view(n * self.num_segments, c, h * w)
            return newton_schulz_sqrt(covariance(x), self.num_iters)

    def forward(
        self, x: torch.Tensor, num_segs: int = None, **kwargs
    ) -> torch.Tensor:
        """``(N*views*T, C_in, H, W)`` -> ``(N*views, num_classes)``.

        ``num_segs`` (Recognizer2D's frames per sample) is not used: the
        head splits by ``self.num_segments``.
        """
        feat = upper_triangle(self.pool(x))
        scores = self.fc_cls(self.dropout(feat))
        if self.level == 'frame':
            scores = scores.view(-1, self.num_segments, self.num_classes).mean(
                1
            )
        return scores
