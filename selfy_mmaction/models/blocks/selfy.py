"""SELFY: self-similarity (STSS) block (Kwon et al., ICCV 2021).

One residual block, inserted after ResNet stage 2 (``layer2``) of a TSM
ResNet-50 (``ResNetTSMWithBlocks(blocks=[dict(cfg=dict(type='SELFYBlock'),
position='after_stage', layers=('layer2',))])``)::

    x (N*T, C, H, W)
    -> STSSTransformation: 3x3 conv C -> 128 stride 2 + BN + ReLU,
       L2-normalise, STSS over a (L, U, V) = (5, 9, 9) window
       -> (N, T, L, U, V, H', W')
    -> STSSExtraction: per position and temporal offset, the U x V
       similarity map -> C_F = 64 features          -> (N, T, L, C_F, H', W')
    -> STSSIntegration: three 3x3 convs per (frame, offset), fuse the L
       offsets (3x3 conv L*64 -> 64), 1x1 transposed conv back to C
       channels and H x W (stride 2) + BN (zero-initialised)
    -> relu(x + that)                               -> (N*T, C, H, W)

Fresh blocks are ``relu(x)``: the last BN starts with weight 0.

Each module's forward below is the paper's computation, its
``ConvModule``s called in order (the official depth-1
``Conv3d``/``BatchNorm3d`` are ``Conv2d``/``BatchNorm2d`` over frames, the
same statistics). ``impl`` picks how it runs:

* ``'fast'`` (default): the STSS by :func:`selfy_mmaction.ops.stss`, and
  the extraction convs and the upsampling by the kernels of
  :mod:`selfy_mmaction.ops.selfy_fast` (maps-last matrix products, the
  upsampling BN as a scale and shift), which give the layers' results
  without calling them. They run only where that is exact and unobserved:
  not under a tracer (FLOP counters and ONNX export see every layer), no
  hook on those layers (so forward and backward hooks, Grad-CAM included,
  fire), plain convs, BatchNorm (or SyncBatchNorm) or no norm, an
  element-wise activation. Otherwise the layers are called as written.
* ``'reference'``: every layer called, and the STSS by its definition
  (:func:`selfy_mmaction.ops.stss_reference`): the plain formulation the
  tests compare the fast one with (float64, 1e-10).

``norm_cfg`` may build BN, SyncBN or GN (or be None); other norms are
refused at construction (LN normalises the width of a ``(N, C, H, W)`` map,
BN1d/BN3d/IN1d/IN3d expect other shapes, IN would zero the extraction's 1x1
outputs; IN is accepted by the transformation and the integration alone),
and so are convs other than 2-D ones.
The upsampling is always the transposed conv (its ``conv_cfg`` is
``deconv``), the layers take the block's ``conv_cfg``.

Parameter names map one to one onto the official checkpoint
(``tools/convert_official_selfy.py``; official weights of the depth-1
``Conv3d`` lose their depth axis, ``Sequential`` indices become names)::

    selfy.stss_transformation.downsample.{0,1}  -> stss_transformation.downsample.{conv,bn}
    selfy.stss_extraction.conv{i}.{0,1}         -> stss_extraction.conv{i}.{conv,bn}
    selfy.stss_integration.conv{i}.{0,1}        -> stss_integration.conv{i}.{conv,bn}
    selfy.stss_integration.conv3_fuse.{1,2}     -> stss_integration.conv3_fuse.{conv,bn}
    selfy.stss_integration.upsample.{0,1}       -> stss_integration.upsample.{conv,bn}

Extraction variants: ``'conv'`` (default, the official code), and two
provisional ones modelled on the paper's ablations, whose exact definitions
could not be checked against the paper: ``'mlp'`` (FC layers on the
flattened U*V map) and ``'softargmax'`` (expected displacement and
confidence, no parameters).
"""

from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmengine.model.weight_init import constant_init, kaiming_init
from torch.nn.modules.batchnorm import _BatchNorm

from ...ops.layout import check_segments, to_ntchw
from ...ops.selfy_fast import (
    fast_path_applies,
    maps_last_conv_stack,
    maps_last_fc_stack,
    strided_upsample,
)
from ...ops.stss import l2_normalize, stss, stss_reference

EXTRACTION_VARIANTS = ('conv', 'mlp', 'softargmax')
IMPLEMENTATIONS = ('fast', 'reference')
# norms of (N, C, H, W) maps
_MAP_NORMS = (
    nn.BatchNorm2d,
    nn.SyncBatchNorm,
    nn.GroupNorm,
    nn.InstanceNorm2d,
)


def _check_window(window: Sequence[int], where: str) -> Tuple[int, ...]:
    window = tuple(int(s) for s in window)
    if len(window) != 3 or any(s < 1 or s % 2 != 1 for s in window):
        raise ValueError(
            f'{where}: window must be three odd sizes (L, U, V)'
            f' >= 1, got {window}'
        )
    return window


def _check_impl(impl: str, where: str) -> str:
    if impl not in IMPLEMENTATIONS:
        raise ValueError(
            f'{where}: impl must be one of {IMPLEMENTATIONS}, got {impl!r}'
        )
    return impl


def _conv_module(
    where: str, *args, one_position: bool = False, **kwargs
) -> ConvModule:
    """A ``ConvModule``, refused with a clear error when its conv is not a
    2-D conv or its norm not one of (N, C, H, W) maps (nor, for
    ``one_position`` layers with 1x1 outputs, an instance norm)."""
    layer = ConvModule(*args, **kwargs)
    if not isinstance(layer.conv, nn.Conv2d):
        raise ValueError(
            f'{where}: conv_cfg={kwargs.get("conv_cfg")} builds '
            f"{type(layer.conv).__name__}; SELFY's layers are 2-D "
            'convolutions of (N, C, H, W) maps (nn.Conv2d or a subclass; '
            'None: the default)'
        )
    if layer.with_norm and not isinstance(layer.norm, _MAP_NORMS):
        hint = (
            ' (LayerNorm normalises the last axis, the width; GN with '
            'num_groups=1 normalises over (C, H, W))'
            if isinstance(layer.norm, nn.LayerNorm)
            else ''
        )
        raise ValueError(
            f'{where}: norm_cfg={kwargs.get("norm_cfg")} builds '
            f'{type(layer.norm).__name__}, which does not normalise the '
            f"(N, C, H, W) maps of SELFY's layers{hint}: use BN, SyncBN, GN"
            ' or IN (or None)'
        )
    if one_position and isinstance(layer.norm, nn.InstanceNorm2d):
        raise ValueError(
            f'{where}: norm_cfg={kwargs.get("norm_cfg")} builds '
            f'{type(layer.norm).__name__}, which normalises each map over its'
            " positions; the extraction's last layers have one position (a "
            '1x1 output), which it would turn into zeros: use BN, SyncBN or '
            'GN (or None)'
        )
    return layer


def _init_convs_and_norms(module: nn.Module):
    """The official init: kaiming normal (fan_out, relu) convs, BN 1 / 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            kaiming_init(
                m, mode='fan_out', nonlinearity='relu', distribution='normal'
            )
        elif isinstance(m, _BatchNorm):
            constant_init(m, 1, 0)


@MODELS.register_module()
class STSSTransformation(BaseModule):
    """Features -> space-time self-similarity (STSS).

    Args:
        in_channels (int): ``C`` of the input.
        num_segments (int): ``T``. Defaults to 8.
        hidden_channels (int): Channels compared by the STSS. Defaults to 128.
        window (Sequence[int]): Odd ``(L, U, V)``: temporal offsets
            ``-L//2..L//2``, spatial offsets ``-U//2..U//2`` rows and
            ``-V//2..V//2`` columns. Defaults to ``(5, 9, 9)``.
        dilation (Sequence[int]): Spatial ``(dy, dx)``. Defaults to (1, 1).
        stride (int): Stride of the 3x3 downsampling conv. Defaults to 2.
        eps (float): Of the L2 normalisation. Defaults to 1e-6.
        conv_cfg, norm_cfg, act_cfg (dict): Of the downsampling ConvModule.
        impl (str): ``'fast'`` (:func:`selfy_mmaction.ops.stss`) or
            ``'reference'`` (the definition). Defaults to ``'fast'``.

    Input ``(N*T, C, H, W)``; output ``(N, T, L, U, V, H', W')`` (cosine
    similarities, float32 under autocast; the fast op stores them
    position-major: see :func:`selfy_mmaction.ops.local_correlation`).
    """

    def __init__(
        self,
        in_channels: int,
        num_segments: int = 8,
        hidden_channels: int = 128,
        window: Sequence[int] = (5, 9, 9),
        dilation: Sequence[int] = (1, 1),
        stride: int = 2,
        eps: float = 1e-6,
        conv_cfg: Optional[dict] = None,
        norm_cfg: dict = dict(type='BN'),
        act_cfg: dict = dict(type='ReLU'),
        impl: str = 'fast',
        init_cfg: Optional[dict] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        where = type(self).__name__
        self.in_channels = in_channels
        self.num_segments = num_segments
        self.window = _check_window(window, where)
        self.dilation = tuple(dilation)
        self.eps = eps
        self.impl = _check_impl(impl, where)
        self.downsample = _conv_module(
            where,
            in_channels,
            hidden_channels,
            3,
            stride=stride,
            padding=1,
            bias=False,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg,
        )

    def init_weights(self) -> None:
        _init_convs_and_norms(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = to_ntchw(
            self.downsample(x), self.num_segments, type(self).__name__
        )  # (N, T, C', H', W')
        feats = l2_normalize(feats, dim=2, eps=self.eps)
        similarity = stss if self.impl == 'fast' else stss_reference
        return similarity(feats, self.window, self.dilation)


@MODELS.register_module()
class STSSExtraction(BaseModule):
    """STSS -> motion features, per position and temporal offset.

    Variants:

    * ``'conv'`` (official): 3x3 convs + BN + ReLU on each ``U x V`` map,
      channels ``(4, 16, 64, 64)``, strides ``(1, 2, 2)`` then a last conv
      whose kernel is the remaining map size (no padding), so the output is
      1x1: 9x9 -> 9 -> 5 -> 3 -> 1 (kernel 3, the official layer). Other
      windows: 5x5 -> 5 -> 3 -> 2 -> 1 (last kernel 2), 13x13 -> ... -> 4
      -> 1 (last kernel 4).
    * ``'mlp'`` (provisional): the flattened ``U*V`` map through 1x1 convs
      (FC) + BN + ReLU with ``mlp_channels`` (default 81 -> 64 -> 64).
    * ``'softargmax'`` (provisional, no parameters; after MotionSqueeze):
      ``p = softmax(g * S / temperature)`` over the window, where ``g`` is a
      Gaussian (``gaussian_sigma``, in window cells; None: no Gaussian)
      centred at the arg-max; features ``(E[dx] / (V//2), E[dy] / (U//2))``
      and, with ``with_confidence``, ``max S``.

    Args:
        window (Sequence[int]): Odd ``(L, U, V)``. Defaults to (5, 9, 9).
        variant (str): ``'conv'``, ``'mlp'`` or ``'softargmax'``.
        channels (Sequence[int]): ``'conv'`` output channels per layer.
        strides (Sequence[int]): ``'conv'`` strides of all but the last
            layer. Defaults to ``(1, 2, 2)``.
        mlp_channels (Sequence[int]): ``'mlp'`` channels per layer.
        temperature (float): ``'softargmax'``. Defaults to 0.01.
        gaussian_sigma (float, optional): ``'softargmax'``. Defaults to 5.
        with_confidence (bool): ``'softargmax'``. Defaults to True.
        conv_cfg, norm_cfg, act_cfg (dict): Of the ConvModules.
        impl (str): ``'fast'`` (maps-last kernels where exact) or
            ``'reference'``. Defaults to ``'fast'``.

    Input ``(N, T, L, U, V, H, W)``; output ``(N, T, L, C_F, H, W)`` with
    ``C_F = out_channels``.
    """

    def __init__(
        self,
        window: Sequence[int] = (5, 9, 9),
        variant: str = 'conv',
        channels: Sequence[int] = (4, 16, 64, 64),
        strides: Sequence[int] = (1, 2, 2),
        mlp_channels: Sequence[int] = (64, 64),
        temperature: float = 0.01,
        gaussian_sigma: Optional[float] = 5.0,
        with_confidence: bool = True,
        conv_cfg: Optional[dict] = None,
        norm_cfg: dict = dict(type='BN'),
        act_cfg: dict = dict(type='ReLU'),
        impl: str = 'fast',
        init_cfg: Optional[dict] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        where = type(self).__name__
        self.window = _check_window(window, where)
        self.impl = _check_impl(impl, where)
        if variant not in EXTRACTION_VARIANTS:
            raise ValueError(
                f'STSSExtraction: variant must be one of '
                f'{EXTRACTION_VARIANTS}, got {variant!r}'
            )
        self.variant = variant
        _, u, v = self.window
        layers: Dict[str, Any] = dict(
            conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg, bias=False
        )
        self.layer_names: List[str] = []
        if variant == 'conv':
            if len(strides) != len(channels) - 1:
                raise ValueError(
                    f'STSSExtraction: need {len(channels) - 1} strides for '
                    f'{len(channels)} conv layers, got {tuple(strides)}'
                )
            size: Tuple[int, ...] = (u, v)
            in_ch = 1
            for i, (out_ch, stride) in enumerate(zip(channels, strides)):
                self._add_layer(
                    f'conv{i}',
                    _conv_module(
                        where,
                        in_ch,
                        out_ch,
                        3,
                        stride=stride,
                        padding=1,
                        **layers,
                    ),
                )
                size = tuple((s - 1) // stride + 1 for s in size)
                in_ch = out_ch
            # the last kernel covers the remaining map: 1x1 output
            self._add_layer(
                f'conv{len(self.layer_names)}',
                _conv_module(
                    where,
                    in_ch,
                    channels[-1],
                    size,
                    one_position=True,
                    **layers,
                ),
            )
            self.out_channels = channels[-1]
        elif variant == 'mlp':
            in_ch = u * v
            for i, out_ch in enumerate(mlp_channels):
                self._add_layer(
                    f'fc{i}',
                    _conv_module(
                        where, in_ch, out_ch, 1, one_position=True, **layers
                    ),
                )
                in_ch = out_ch
            self.out_channels = mlp_channels[-1]
        else:
            self.temperature = temperature
            self.gaussian_sigma = gaussian_sigma
            self.with_confidence = with_confidence
            self.out_channels = 3 if with_confidence else 2
            rows = torch.arange(u, dtype=torch.float32) - u // 2
            cols = torch.arange(v, dtype=torch.float32) - v // 2
            self.register_buffer(
                'offset_rows', rows.repeat_interleave(v), persistent=False
            )
            self.register_buffer(
                'offset_cols', cols.repeat(u), persistent=False
            )
        self.num_layers = len(self.layer_names)

    def _add_layer(self, name: str, layer: nn.Module) -> None:
        self.add_module(name, layer)
        self.layer_names.append(name)

    @property
    def layers(self) -> List[ConvModule]:
        """The ConvModules in order (``conv*`` or ``fc*``)."""
        return [getattr(self, name) for name in self.layer_names]

    def init_weights(self) -> None:
        _init_convs_and_norms(self)

    def forward(self, similarity: torch.Tensor) -> torch.Tensor:
        n, t, offsets, u, v, h, w = similarity.shape
        if (offsets, u, v) != self.window:
            raise ValueError(
                f'STSSExtraction: expected a (L, U, V) = '
                f'{self.window} window, got {(offsets, u, v)} in '
                f'input shape {tuple(similarity.shape)}'
            )
        # (M, U*V): one map per (n, t, h, w, offset), M = N*T*H*W*L (a view of
        # the fast op's position-major STSS)
        maps = similarity.permute(0, 1, 5, 6, 2, 3, 4).reshape(-1, u * v)
        if self.variant == 'softargmax':
            feats = self._softargmax(maps)
        elif self.impl == 'fast' and fast_path_applies(self.layers):
            feats = (
                maps_last_conv_stack(self.layers, maps, (u, v))
                if self.variant == 'conv'
                else maps_last_fc_stack(self.layers, maps)
            )
        else:
            feats = self._apply_layers(maps)
        feats = feats.reshape(
            n, t, h, w, offsets, -1
        )  # (M, C_F) -> per position
        return feats.permute(0, 1, 4, 5, 2, 3).contiguous()

    def _apply_layers(self, maps: torch.Tensor) -> torch.Tensor:
        """The layers on ``(M, 1, U, V)`` maps (``'conv'``) or ``(M, U*V,
        1, 1)`` vectors (``'mlp'``); returns ``(M, C_F)``."""
        _, u, v = self.window
        x = (
            maps.view(-1, 1, u, v)
            if self.variant == 'conv'
            else maps.view(-1, u * v, 1, 1)
        )
        for layer in self.layers:
            x = layer(x)
        return x.flatten(1)  # the last layer's output is 1x1

    def _softargmax(self, maps: torch.Tensor) -> torch.Tensor:
        _, u, v = self.window
        score = maps
        if self.gaussian_sigma is not None:
            peak = maps.argmax(dim=1, keepdim=True)
            dy = self.offset_rows - self.offset_rows[peak]
            dx = self.offset_cols - self.offset_cols[peak]
            score = maps * torch.exp(
                -(dy**2 + dx**2) / (2 * self.gaussian_sigma**2)
            )
        prob = torch.softmax(score / self.temperature, dim=1)
        feats = [
            (prob * self.offset_cols).sum(1) / max(v // 2, 1),
            (prob * self.offset_rows).sum(1) / max(u // 2, 1),
        ]
        if self.with_confidence:
            feats.append(maps.amax(dim=1))
        return torch.stack(feats, dim=1)


@MODELS.register_module()
class STSSIntegration(BaseModule):
    """Motion features -> residual of the input's shape.

    ``conv0..conv{k-2}``: 3x3 conv + BN + ReLU per (frame, offset);
    ``conv{k-1}_fuse``: the ``L`` offsets' features stacked as channels
    ``l * C + c`` -> 3x3 conv + BN + ReLU; ``upsample``: 1x1 transposed conv
    to ``out_channels`` with ``stride`` (values at multiples of the stride,
    zeros between) + BN. Defaults (``channels=(64, 64, 64, 64)``) give the
    official ``conv0, conv1, conv2, conv3_fuse, upsample``.

    Args:
        in_channels (int): ``C_F`` of the extracted features.
        out_channels (int): ``C`` of the block input.
        window (Sequence[int]): Odd ``(L, U, V)``; ``L`` sets the fused
            channels. Defaults to ``(5, 9, 9)``.
        channels (Sequence[int]): Output channels of the per-frame convs and
            of the fusing conv. Defaults to ``(64, 64, 64, 64)``.
        stride (int): Of the upsampling (the transformation's stride).
        conv_cfg, norm_cfg, act_cfg (dict): Of the ConvModules (the
            upsampling takes ``norm_cfg`` only: a transposed conv, no
            activation).
        impl (str): ``'fast'`` (the upsampling without its zero-filled map
            where exact) or ``'reference'``. Defaults to ``'fast'``.

    Input ``(N, T, L, C_F, H', W')`` and the output size ``(H, W)``; output
    ``(N*T, out_channels, H, W)``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        window: Sequence[int] = (5, 9, 9),
        channels: Sequence[int] = (64, 64, 64, 64),
        stride: int = 2,
        conv_cfg: Optional[dict] = None,
        norm_cfg: dict = dict(type='BN'),
        act_cfg: dict = dict(type='ReLU'),
        impl: str = 'fast',
        init_cfg: Optional[dict] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        where = type(self).__name__
        self.window = _check_window(window, where)
        self.impl = _check_impl(impl, where)
        self.in_channels = in_channels
        self.stride = stride
        layers: Dict[str, Any] = dict(
            conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg, bias=False
        )
        length = self.window[0]
        in_ch = in_channels
        self.frame_convs = []
        for i, out_ch in enumerate(channels[:-1]):
            self.add_module(
                f'conv{i}',
                _conv_module(where, in_ch, out_ch, 3, padding=1, **layers),
            )
            self.frame_convs.append(f'conv{i}')
            in_ch = out_ch
        self.fuse_name = f'conv{len(channels) - 1}_fuse'
        self.add_module(
            self.fuse_name,
            _conv_module(
                where, length * in_ch, channels[-1], 3, padding=1, **layers
            ),
        )
        self.upsample = ConvModule(
            channels[-1],
            out_channels,
            1,
            stride=stride,
            bias=False,
            conv_cfg=dict(type='deconv'),
            norm_cfg=norm_cfg,
            act_cfg=None,
        )

    def init_weights(self) -> None:
        _init_convs_and_norms(self)

    def forward(
        self,
        feats: torch.Tensor,
        output_size: Tuple[int, int],
        identity: Optional[torch.Tensor] = None,
    ) -> torch.Tensor:
        """The residual ``(N*T, out_channels, H, W)``, or with ``identity``
        (the block input, that shape) ``relu(identity + residual)``."""
        n, t, length, c, h, w = feats.shape
        if (length, c) != (self.window[0], self.in_channels):
            raise ValueError(
                f'STSSIntegration: expected (N, T, {self.window[0]}, '
                f'{self.in_channels}, H, W) features, got {tuple(feats.shape)}'
            )
        out_h, out_w = output_size
        if not (
            0 <= out_h - (h - 1) * self.stride - 1 < self.stride
            and 0 <= out_w - (w - 1) * self.stride - 1 < self.stride
        ):
            raise ValueError(
                f'STSSIntegration: output size {tuple(output_size)} cannot '
                f'come from {(h, w)} with stride {self.stride}'
            )
        x = feats.reshape(n * t * length, c, h, w)  # per (frame, offset)
        for name in self.frame_convs:
            x = getattr(self, name)(x)
        x = getattr(self, self.fuse_name)(  # offsets stacked as channels
            x.reshape(n * t, length * x.shape[1], h, w)
        )
        if self.impl == 'fast' and fast_path_applies(
            [self.upsample], transposed=True
        ):
            return strided_upsample(self.upsample, x, (out_h, out_w), identity)
        residual = self._upsample(x, (out_h, out_w))
        return residual if identity is None else F.relu(identity + residual)

    def _upsample(
        self, x: torch.Tensor, output_size: Sequence[int]
    ) -> torch.Tensor:
        """The transposed conv (``(H'-1)*s+1`` rows and columns) with the
        zero rows and columns that reach ``output_size`` (the official
        ``output_padding``), then its norm."""
        y = self.upsample(x, norm=False)
        y = F.pad(
            y,
            (0, output_size[1] - y.shape[-1], 0, output_size[0] - y.shape[-2]),
        )
        return self.upsample.norm(y) if self.upsample.with_norm else y


@MODELS.register_module()
class SELFYBlock(BaseModule):
    """The SELFY block: ``relu(x + integration(extraction(STSS(x))))``.

    Args:
        in_channels (int): ``C`` (512 after ResNet-50 ``layer2``); filled in
            by ``ResNetTSMWithBlocks``.
        num_segments (int): ``T``; filled in by the backbone. Defaults to 8.
        hidden_channels (int): STSS feature channels. Defaults to 128.
        window (Sequence[int]): Odd ``(L, U, V)``. Defaults to ``(5, 9, 9)``.
        dilation (Sequence[int]): Spatial window dilation. Defaults to (1, 1).
        stride (int): Downsampling before the STSS (and upsampling after).
            Defaults to 2.
        extraction (str): ``'conv'`` (official), ``'mlp'`` or
            ``'softargmax'`` (provisional), see :class:`STSSExtraction`.
        extraction_channels (Sequence[int]): Defaults to ``(4, 16, 64, 64)``.
        extraction_strides (Sequence[int]): Defaults to ``(1, 2, 2)``.
        extraction_cfg (dict, optional): More :class:`STSSExtraction`
            arguments (``mlp_channels``, ``temperature``...).
        integration_channels (Sequence[int]): Defaults to
            ``(64, 64, 64, 64)``.
        eps (float): Of the L2 normalisation. Defaults to 1e-6.
        zero_init_last (bool): Start the last layer at 0 (block = ReLU): the
            upsampling norm's weight, or without an affine norm its conv.
            Defaults to True.
        conv_cfg, norm_cfg, act_cfg (dict): Of every ConvModule (BN, SyncBN,
            GN or no norm; 2-D convs).
        impl (str): ``'fast'`` (default) or ``'reference'`` (the plain
            formulation), see the module docstring; same parameters and
            results.

    Input and output ``(N*T, C, H, W)`` (any ``H, W``, e.g. odd).
    """

    def __init__(
        self,
        in_channels: int,
        num_segments: int = 8,
        hidden_channels: int = 128,
        window: Sequence[int] = (5, 9, 9),
        dilation: Sequence[int] = (1, 1),
        stride: int = 2,
        extraction: str = 'conv',
        extraction_channels: Sequence[int] = (4, 16, 64, 64),
        extraction_strides: Sequence[int] = (1, 2, 2),
        extraction_cfg: Optional[dict] = None,
        integration_channels: Sequence[int] = (64, 64, 64, 64),
        eps: float = 1e-6,
        zero_init_last: bool = True,
        conv_cfg: Optional[dict] = None,
        norm_cfg: dict = dict(type='BN'),
        act_cfg: dict = dict(type='ReLU'),
        impl: str = 'fast',
        init_cfg: Optional[dict] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        if num_segments < 1:
            raise ValueError(
                f'SELFYBlock: num_segments must be >= 1, got {num_segments}'
            )
        self.in_channels = in_channels
        self.num_segments = num_segments
        self.window = _check_window(window, type(self).__name__)
        self.impl = _check_impl(impl, type(self).__name__)
        self.zero_init_last = zero_init_last
        layers: Dict[str, Any] = dict(
            conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg, impl=impl
        )
        self.stss_transformation = STSSTransformation(
            in_channels,
            num_segments,
            hidden_channels,
            window,
            dilation,
            stride,
            eps,
            **layers,
        )
        self.stss_extraction = STSSExtraction(
            window,
            extraction,
            extraction_channels,
            extraction_strides,
            **(extraction_cfg or {}),
            **layers,
        )
        self.stss_integration = STSSIntegration(
            self.stss_extraction.out_channels,
            in_channels,
            window,
            integration_channels,
            stride,
            **layers,
        )
        self.init_weights()

    def init_weights(self) -> None:
        """Official init; the last layer (upsampling norm) starts at 0."""
        _init_convs_and_norms(self)
        if self.zero_init_last:
            upsample = self.stss_integration.upsample
            norm = upsample.norm if upsample.with_norm else None
            if norm is not None and getattr(norm, 'weight', None) is not None:
                constant_init(norm, 0, 0)
            else:
                constant_init(upsample.conv, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f'SELFYBlock: expected input (N*T, {self.in_channels}, H, W), '
                f'got {tuple(x.shape)}'
            )
        check_segments(x, self.num_segments, type(self).__name__)
        similarity = self.stss_transformation(x)  # (N, T, L, U, V, H', W')
        motion = self.stss_extraction(similarity)  # (N, T, L, C_F, H', W')
        return self.stss_integration(motion, x.shape[-2:], identity=x)
