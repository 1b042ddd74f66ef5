"""STA: spatial-temporal aggregation, after MSTAT (Tang et al., IEEE TMM
2023, arXiv 2301.00531).

MSTAT's abstract describes STA modules that run self-attention along space
and along time separately (to save compute); no code is public, so the
layout below is ours:

* :class:`SpaceTimeAttention` works on tokens ``(N, T, S, D)``: pre-norm
  multi-head self-attention among the ``S`` tokens of each frame, residual;
  then pre-norm multi-head self-attention among the ``T`` tokens of each
  position (a learnable temporal position embedding added to its queries and
  keys: without it, attention would not see the frame order), residual. Both
  attentions are MMCV's ``MultiheadAttention`` (``torch.nn``'s inside).
  Cost per clip ``O(T S^2 + S T^2)`` instead of ``O((TS)^2)``.
  :class:`~selfy_mmaction.models.backbones.MSTAT` stacks it into a ViT.
* :class:`STABlock` puts it into a CNN ("MSTAT-inspired" STA-TSM): a
  feature map ``(N*T, C, H, W)`` is projected to ``D = C / reduction``
  channels per token, goes through :class:`SpaceTimeAttention` and is
  projected back by a zero-initialised linear layer added to the input, so
  the block is exactly the identity at initialisation. Insert it with
  ``ResNetTSMWithBlocks``, e.g. ``position='after_stage'`` on ``layer3`` and
  ``layer4`` (res4/res5, :func:`sta_blocks`).
"""

from typing import List, Optional, Sequence

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmcv.cnn import build_norm_layer
from mmcv.cnn.bricks.transformer import MultiheadAttention
from mmengine.model.weight_init import constant_init, trunc_normal_

from ...ops.layout import check_segments
from .base import MotionBlock


def sta_blocks(
    layers: Sequence[str] = ('layer3', 'layer4'), **cfg
) -> List[dict]:
    """``blocks`` entries of ``ResNetTSMWithBlocks``: one :class:`STABlock`
    after each named stage (default res4 and res5); ``cfg`` goes to the
    block (``reduction``, ``num_heads``...)."""
    return [
        dict(
            cfg=dict(type='STABlock', **cfg),
            position='after_stage',
            layers=tuple(layers),
        )
    ]


class SpaceTimeAttention(MotionBlock):
    """Divided self-attention: within each frame, then along time.

    ``x + SA_s(LN_s(x))`` over the ``S`` tokens of each frame, then
    ``y + SA_t(LN_t(y) [+ pos_t])`` over the ``T`` tokens at each token
    index (``pos_t`` goes into queries and keys only, as MMCV's
    ``query_pos``). Every token index is a "position" for the temporal step,
    so extra per-frame tokens (MSTAT's proxies) attend along time too.

    Args:
        embed_dims (int): ``D``.
        num_heads (int): Heads of both attentions (``D`` divisible by it).
        num_frames (int): ``T``; the length of the temporal position
            embedding (inputs must have exactly ``T`` frames).
        temporal_pos (bool): Learnable temporal position embedding, trunc
            normal (std 0.02). Defaults to True.
        zero_init_temporal (bool): Zero the temporal attention's output
            projection, so the temporal step starts as the identity (MSTAT:
            an ImageNet ViT starts as a per-frame ViT, as TimeSformer's
            ``temporal_fc``). Defaults to False.
        attn_drop (float): Dropout on attention weights. Defaults to 0.
        proj_drop (float): Dropout on the attention outputs. Defaults to 0.
        drop_path (float): Stochastic depth on both residual branches.
            Defaults to 0.
        norm_cfg (dict): Pre-norm layers. Defaults to ``dict(type='LN',
            eps=1e-6)`` (ViT's).
        init_cfg (dict, optional): Replaces :meth:`default_init`
            (:class:`MotionBlock`). Defaults to None.

    Input and output ``(N, T, S, D)``.
    """

    def __init__(
        self,
        embed_dims: int,
        num_heads: int,
        num_frames: int,
        temporal_pos: bool = True,
        zero_init_temporal: bool = False,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
        drop_path: float = 0.0,
        norm_cfg: dict = dict(type='LN', eps=1e-6),
        init_cfg: Optional[dict] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        if embed_dims % num_heads:
            raise ValueError(
                f'embed_dims={embed_dims} is not divisible by '
                f'num_heads={num_heads}'
            )
        if num_frames < 1:
            raise ValueError(f'num_frames must be >= 1, got {num_frames}')
        self.embed_dims = embed_dims
        self.num_frames = num_frames
        self.zero_init_temporal = zero_init_temporal
        dropout_layer = dict(type='DropPath', drop_prob=drop_path)
        self.norm_s = build_norm_layer(norm_cfg, embed_dims)[1]
        self.attn_s = MultiheadAttention(
            embed_dims,
            num_heads,
            attn_drop=attn_drop,
            proj_drop=proj_drop,
            dropout_layer=dropout_layer,
            batch_first=True,
        )
        self.norm_t = build_norm_layer(norm_cfg, embed_dims)[1]
        self.attn_t = MultiheadAttention(
            embed_dims,
            num_heads,
            attn_drop=attn_drop,
            proj_drop=proj_drop,
            dropout_layer=dropout_layer,
            batch_first=True,
        )
        self.pos_t = (
            nn.Parameter(torch.zeros(1, num_frames, embed_dims))
            if temporal_pos
            else None
        )

    def default_init(self) -> None:
        """``torch.nn.MultiheadAttention``'s own init (Xavier in-projection,
        zero biases), the temporal position embedding trunc normal 0.02, the
        temporal output projection zero if ``zero_init_temporal``."""
        for attn in (self.attn_s, self.attn_t):
            attn.attn._reset_parameters()
        if self.pos_t is not None:
            trunc_normal_(self.pos_t, std=0.02)
        if self.zero_init_temporal:
            constant_init(self.attn_t.attn.out_proj, 0, 0)

    def _check(self, x: torch.Tensor) -> None:
        if (
            x.dim() != 4
            or x.shape[1] != self.num_frames
            or x.shape[3] != self.embed_dims
        ):
            raise ValueError(
                f'SpaceTimeAttention expects (N, T={self.num_frames}, S, '
                f'D={self.embed_dims}) tokens, got shape {tuple(x.shape)}'
            )

    def spatial(self, x: torch.Tensor) -> torch.Tensor:
        """Attention among the ``S`` tokens of each frame (plus residual)."""
        self._check(x)
        n, t, s, d = x.shape
        x = x.reshape(n * t, s, d)
        return self.attn_s(self.norm_s(x), identity=x).view(n, t, s, d)

    def temporal(self, x: torch.Tensor) -> torch.Tensor:
        """Attention among the ``T`` tokens of each index (plus residual)."""
        self._check(x)
        n, t, s, d = x.shape
        x = x.transpose(1, 2).reshape(n * s, t, d)
        out = self.attn_t(
            self.norm_t(x),
            identity=x,
            query_pos=self.pos_t,
            key_pos=self.pos_t,
        )
        return out.view(n, s, t, d).transpose(1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.temporal(self.spatial(x))


@MODELS.register_module()
class STABlock(MotionBlock):
    """MSTAT-inspired STA block for 2D CNNs (identity at init).

    ``out = x + W_up(STA(W_down(x)))`` with ``W_down``: ``C -> D`` and
    ``W_up``: ``D -> C`` per-position linear maps (1x1 convs) and ``STA`` a
    :class:`SpaceTimeAttention` over the ``H*W`` positions of each frame and
    the ``T`` frames of each position. ``W_up`` (weight and bias) is zero at
    init. All choices (reduction, heads, no spatial position embedding: the
    conv features carry position) are ours.

    Args:
        in_channels (int): ``C``; filled in by the backbone.
        num_segments (int): ``T``; filled in by the backbone.
        reduction (int): ``D = C // reduction``. Defaults to 4.
        num_heads (int): Attention heads. Defaults to 4.
        temporal_pos (bool): See :class:`SpaceTimeAttention`. Defaults to
            True.
        attn_drop (float): Attention-weight dropout. Defaults to 0.
        norm_cfg (dict): Pre-norm layers. Defaults to ``dict(type='LN',
            eps=1e-6)``.
        init_cfg (dict, optional): Replaces :meth:`default_init`
            (:class:`MotionBlock`). Defaults to None.

    Input and output ``(N*T, C, H, W)``.
    """

    def __init__(
        self,
        in_channels: int,
        num_segments: int,
        reduction: int = 4,
        num_heads: int = 4,
        temporal_pos: bool = True,
        attn_drop: float = 0.0,
        norm_cfg: dict = dict(type='LN', eps=1e-6),
        init_cfg: Optional[dict] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        if reduction < 1 or in_channels % reduction:
            raise ValueError(
                f'STABlock: in_channels={in_channels} is not '
                f'divisible by reduction={reduction}'
            )
        self.in_channels = in_channels
        self.num_segments = num_segments
        self.embed_dims = in_channels // reduction
        self.down = nn.Linear(in_channels, self.embed_dims)
        self.sta = SpaceTimeAttention(
            self.embed_dims,
            num_heads,
            num_segments,
            temporal_pos=temporal_pos,
            attn_drop=attn_drop,
            norm_cfg=norm_cfg,
        )
        self.up = nn.Linear(self.embed_dims, in_channels)

    def default_init(self) -> None:
        """``W_down`` trunc normal (std 0.02, zero bias), the attention as
        :meth:`SpaceTimeAttention.init_weights`, ``W_up`` zero."""
        trunc_normal_(self.down.weight, std=0.02)
        nn.init.zeros_(self.down.bias)
        self.sta.init_weights()
        constant_init(self.up, 0, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f'STABlock expects (N*T, {self.in_channels}, '
                f'H, W), got shape {tuple(x.shape)}'
            )
        n = check_segments(x, self.num_segments, 'STABlock')
        _, c, h, w = x.shape
        tokens = x.view(n, self.num_segments, c, h * w).transpose(2, 3)
        out = self.up(self.sta(self.down(tokens)))  # (N, T, HW, C)
        return x + out.transpose(2, 3).reshape(x.shape)
