"""P3D: Pseudo-3D residual blocks (Qiu, Yao, Mei, ICCV 2017), in the 2D
recipe: ImageNet ResNet, Recognizer2D, ``T`` kept in every stage, the
temporal convolution run on a ``(N, C, T, H, W)`` view of the frames.

Each block replaces a bottleneck's 3x3 ``ConvModule`` (``net``: S, the
ImageNet 1x3x3 conv with its BN and ReLU) with S plus T, a full ``3x1x1``
conv (C -> C, zero temporal padding, :class:`TemporalConv`):

* ``'A'`` (serial, T(S(x))): ``ReLU(BN(T(conv_S(x))))``, where BN and ReLU
  are S's own (ImageNet) ones, moved after T; T starts as the identity
  (centre tap = identity matrix), so the block starts as the 2D conv
  exactly, in train and eval mode. The official prototxt also has a BN+ReLU
  between S and T and a second one after T; ``a_inner_norm=True`` builds that
  form (T's BN starts at gamma 1, beta 0): it is not the identity at init
  (train-mode BN re-normalises T's output).
* ``'B'`` (parallel, S(x) + T(x), T on the block's input): ``ReLU(S(x) +
  BN_T(T(x)))``, ReLU after S-BN (S's own) and after the sum; T takes S's
  spatial stride (a strided 3x1x1 conv subsamples).
* ``'C'`` (S + T(S)): ``ReLU(S(x) + BN_T(T(S(x))))``.

B and C start as the 2D conv exactly: BN_T's gamma and beta are zero (T is
Kaiming-initialised; only BN_T learns on the first step). Where ``net`` has
no activation (a basic block's conv2), no ReLU is added either.

The A -> B -> C cycle runs through the bottlenecks of res2..res4, res5 stays
2D (P3D-199: 2a A, 2b B, 2c C, 3a A, ...): three ``blocks`` entries with
``position='wrap_conv2'`` and the ``indices`` of :func:`p3d_cycle_indices`
(:func:`p3d_blocks` builds them). The authors' 3D form (Recognizer3D,
temporal max-pooling before res3/res4/res5) is not implemented.
"""

from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmcv.cnn import ConvModule, build_norm_layer
from mmengine.model.weight_init import constant_init

from ...ops.factorised import TemporalConv
from .base import MotionBlock

P3D_TYPES = ('A', 'B', 'C')


def p3d_cycle_indices(
    stage_blocks: Sequence[int], cycle_stages: int = 3
) -> Dict[str, Tuple[Tuple[int, ...], ...]]:
    """Per-type ``indices`` for the A, B, C cycle over the blocks of the
    first ``cycle_stages`` stages (counted across stages); later stages get
    zeros. ``(3, 4, 6, 3)`` -> A at 2a, 3a, 3d, 4c, 4f."""
    if not 0 < cycle_stages <= len(stage_blocks):
        raise ValueError(
            f'cycle_stages must be in 1..{len(stage_blocks)}, '
            f'got {cycle_stages}'
        )
    masks: Dict[str, List[Tuple[int, ...]]] = {t: [] for t in P3D_TYPES}
    k = 0
    for stage, n in enumerate(stage_blocks):
        rows = {t: [0] * n for t in P3D_TYPES}
        if stage < cycle_stages:
            for i in range(n):
                rows[P3D_TYPES[k % 3]][i] = 1
                k += 1
        for t in P3D_TYPES:
            masks[t].append(tuple(rows[t]))
    return {t: tuple(m) for t, m in masks.items()}


def p3d_blocks(
    stage_blocks: Sequence[int],
    position: str = 'wrap_conv2',
    cycle_stages: int = 3,
    **cfg,
) -> List[dict]:
    """``blocks`` entries of the A, B, C cycle (``cfg``: extra P3DBlock
    arguments)."""
    indices = p3d_cycle_indices(stage_blocks, cycle_stages)
    layers = tuple(f'layer{i + 1}' for i in range(cycle_stages))
    return [
        dict(
            cfg=dict(type='P3DBlock', block_type=t, **cfg),
            position=position,
            layers=layers,
            indices=indices[t],
        )
        for t in P3D_TYPES
    ]


@MODELS.register_module()
class P3DBlock(MotionBlock):
    """A P3D block around a ResNet's 3x3 ``ConvModule``.

    Args:
        net (ConvModule): The 3x3 ``ConvModule`` (conv, BN, optional ReLU);
            filled in by the backbone.
        num_segments (int): ``T``; filled in by the backbone.
        block_type (str): ``'A'``, ``'B'`` or ``'C'``.
        temporal_kernel_size (int): T's kernel size. Defaults to 3.
        a_inner_norm (bool): Type A only: the prototxt form with BN+ReLU
            after S and after T (not the identity at init). Defaults to False.
        norm_cfg (dict): T's BN. Defaults to ``dict(type='BN')``.
        init_cfg (dict, optional): Replaces :meth:`default_init`
            (:class:`MotionBlock`). Defaults to None.

    Input ``(N*T, C_in, H, W)``; output ``(N*T, C_out, H', W')`` like ``net``.
    """

    def __init__(
        self,
        net: ConvModule,
        num_segments: int,
        block_type: str = 'A',
        temporal_kernel_size: int = 3,
        a_inner_norm: bool = False,
        norm_cfg: dict = dict(type='BN'),
        init_cfg: Optional[dict] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        conv = getattr(net, 'conv', None)
        if not isinstance(conv, nn.Conv2d):
            raise TypeError(
                f'P3DBlock wraps a ConvModule holding an '
                f'nn.Conv2d (wrap_conv2 of a plain ResNet, '
                f'is_shift=False), got {type(net).__name__} with '
                f'conv {type(conv).__name__}'
            )
        if block_type not in P3D_TYPES:
            raise ValueError(
                f'block_type must be one of {P3D_TYPES}, got {block_type!r}'
            )
        if a_inner_norm and block_type != 'A':
            raise ValueError(
                f'a_inner_norm applies to type A only, got '
                f'block_type={block_type!r}'
            )
        if (
            tuple(getattr(net, 'order', ())) != ('conv', 'norm', 'act')
            or not net.with_norm
        ):
            raise ValueError(
                f'P3DBlock needs a ConvModule ordered (conv, '
                f'norm, act) with a norm, got order '
                f'{getattr(net, "order", None)}'
            )
        if conv.stride[0] != conv.stride[1] or any(
            p != d * (k // 2)
            for p, d, k in zip(conv.padding, conv.dilation, conv.kernel_size)
        ):
            raise ValueError(
                f'P3DBlock needs a square stride and "same" '
                f'padding, got stride {conv.stride}, padding '
                f'{conv.padding}'
            )
        self.net = net
        self.num_segments = num_segments
        self.block_type = block_type
        self.a_inner_norm = a_inner_norm
        channels = conv.out_channels
        if block_type == 'B':  # T on the block input, strided as S
            self.temporal = TemporalConv(
                conv.in_channels,
                channels,
                num_segments,
                temporal_kernel_size,
                stride=conv.stride[0],
                init='kaiming',
            )
        else:
            self.temporal = TemporalConv(
                channels,
                channels,
                num_segments,
                temporal_kernel_size,
                init='identity' if block_type == 'A' else 'kaiming',
            )
        if block_type != 'A' or a_inner_norm:
            self.temporal_norm = build_norm_layer(norm_cfg, channels)[1]
        if a_inner_norm:
            self.temporal_act = nn.ReLU(inplace=True)

    def default_init(self) -> None:
        """T: identity (A) or Kaiming (B, C); BN_T: gamma 1 for
        ``a_inner_norm``, else gamma = beta = 0. ``net`` keeps its weights."""
        self.temporal.init_weights()
        if hasattr(self, 'temporal_norm'):
            constant_init(self.temporal_norm, 1 if self.a_inner_norm else 0)

    def _activate(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.activate(x) if self.net.with_activation else x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.block_type == 'A':
            if self.a_inner_norm:
                y = self.temporal_norm(self.temporal(self.net(x)))
                return self.temporal_act(y)
            y = self.temporal(self.net.conv(x))
            return self._activate(self.net.norm(y))
        s = self.net(x)
        t = self.temporal(x if self.block_type == 'B' else s)
        return self._activate(s + self.temporal_norm(t))
