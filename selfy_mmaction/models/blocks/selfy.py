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

Same layers and parameters as the authors' code, computed differently:
their depth-1 ``Conv3d``/``BatchNorm3d`` are ``Conv2d``/``BatchNorm2d`` over
frames (identical statistics), the first extraction conv (1 input channel
on a 9x9 map, slow as a convolution on CPU) is one matrix product with its
``(U*V) x (4*U*V)`` operator, the other extraction convs work on maps-last
``(H', W', C, M)`` features (``M = N*T*H*W*L`` maps): each output position
is a sum of matrix products of weight slices with contiguous row blocks of
its window (no patch copies, no products with the zero padding), and
BatchNorm sees ``(H'*W', C, M)`` (PyTorch's contiguous kernel: fast, and as
precise as the official layout; its channels-last CPU kernel would lose
about three float32 digits here); the ``ConvTranspose3d`` (kernel 1,
stride 2) is a 1x1 conv placed at even positions. Outputs and gradients
equal the official formulation (tests check float64 to 1e-10).

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
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmengine.model.weight_init import constant_init, kaiming_init
from torch.nn.modules.batchnorm import _BatchNorm

from ...ops.layout import check_segments, to_ntchw
from ...ops.stss import l2_normalize, stss

EXTRACTION_VARIANTS = ('conv', 'mlp', 'softargmax')


def _check_window(window, where):
    window = tuple(int(s) for s in window)
    if len(window) != 3 or any(s < 1 or s % 2 != 1 for s in window):
        raise ValueError(f'{where}: window must be three odd sizes (L, U, V)'
                         f' >= 1, got {window}')
    return window


def _init_convs_and_norms(module: nn.Module):
    """The official init: kaiming normal (fan_out, relu) convs, BN 1 / 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            kaiming_init(m, mode='fan_out', nonlinearity='relu',
                         distribution='normal')
        elif isinstance(m, _BatchNorm):
            constant_init(m, 1, 0)


def _norm_act(layer: ConvModule, x: torch.Tensor):
    """The norm and activation of a ConvModule (after its conv)."""
    if layer.with_norm:
        x = layer.norm(x)
    if layer.with_activation:
        x = layer.activate(x)
    return x


def _norm_act_maps_last(layer: ConvModule, x: torch.Tensor):
    """Norm + activation of maps-last features ``(..., C, M)``: BatchNorm
    sees ``(P, C, M, 1)`` (PyTorch's contiguous NCHW kernel, fast and as
    precise as the official layout; its channels-last CPU kernel loses
    float32 digits on these maps)."""
    return _norm_act(layer, x.view(-1, *x.shape[-2:], 1)).view(x.shape)


def _window_blocks(size, kernel, stride, padding):
    """A conv's windows on maps-last ``(H, W, C, M)`` maps: per output
    position (row-major), the ``(rows, cols, kernel_rows, kernel_cols)``
    slices of its window inside the map, one per input row, or one for all
    rows when they are whole (then ``x[rows, cols]`` is still one
    contiguous ``(K, M)`` block). Returns ``(H', W')`` and the blocks."""
    (h, w), (kh, kw), (sh, sw), (ph, pw) = size, kernel, stride, padding
    out_size = ((h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1)
    blocks = []
    for oh in range(out_size[0]):
        for ow in range(out_size[1]):
            top, left = oh * sh - ph, ow * sw - pw
            r0, r1 = max(top, 0), min(top + kh, h)
            c0, c1 = max(left, 0), min(left + kw, w)
            if r0 >= r1 or c0 >= c1:
                blocks.append([])
                continue
            cols, kcols = slice(c0, c1), slice(c0 - left, c1 - left)
            spans = [(r0, r1)] if c1 - c0 == w else [(r, r + 1)
                                                       for r in range(r0, r1)]
            blocks.append([(slice(a, b), cols, slice(a - top, b - top), kcols)
                           for a, b in spans])
    return out_size, blocks


def _maps_last_products(x, kernel, blocks, out_size, bias=None):
    """``(H', W', C', M)``: per output position the sum of the products of
    ``kernel`` ``(C', kh, kw, C)`` slices with the row blocks of ``x``
    ``(H, W, C, M)`` (see :func:`_window_blocks`), plus ``bias`` ``(C',)``."""
    m, cout = x.shape[-1], kernel.shape[0]
    out = x.new_empty(*out_size, cout, m)
    for pos, parts in zip(out.view(-1, cout, m), blocks):
        if not parts:
            pos.copy_(bias[:, None]) if bias is not None else pos.zero_()
        for k, (rows, cols, krows, kcols) in enumerate(parts):
            a = kernel[:, krows, kcols].reshape(cout, -1)
            b = x[rows, cols].reshape(-1, m)
            if k > 0:
                pos.addmm_(a, b)
            elif bias is None:
                torch.mm(a, b, out=pos)
            else:
                torch.addmm(bias[:, None], a, b, out=pos)
    return out


class _MapsLastConv(torch.autograd.Function):
    """A conv without bias on maps-last ``(H, W, C, M)`` maps, as matrix
    products of weight slices with the contiguous row blocks of each window:
    no patch copies, no products with the zero padding. The backward
    accumulates into the same blocks."""

    @staticmethod
    def forward(ctx, x, weight, stride, padding):
        out_size, blocks = _window_blocks(x.shape[:2], weight.shape[2:],
                                          stride, padding)
        kernel = weight.permute(0, 2, 3, 1).contiguous()  # (C', kh, kw, C)
        ctx.save_for_backward(x, kernel)
        ctx.blocks = blocks
        return _maps_last_products(x, kernel, blocks, out_size)

    @staticmethod
    def backward(ctx, grad):
        x, kernel = ctx.saved_tensors
        m, cout = x.shape[-1], kernel.shape[0]
        grad = grad.contiguous().view(-1, cout, m)
        grad_x = torch.zeros_like(x) if ctx.needs_input_grad[0] else None
        grad_kernel = torch.zeros_like(kernel) if ctx.needs_input_grad[
            1] else None
        for pos, parts in zip(grad, ctx.blocks):
            for rows, cols, krows, kcols in parts:
                if grad_x is not None:
                    grad_x[rows, cols].view(-1, m).addmm_(
                        kernel[:, krows, kcols].reshape(cout, -1).t(), pos)
                if grad_kernel is not None:
                    part = grad_kernel[:, krows, kcols]
                    part += (pos @ x[rows, cols].reshape(-1, m).t()).view(
                        part.shape)
        if grad_kernel is not None:
            grad_kernel = grad_kernel.permute(0, 3, 1, 2)
        return grad_x, grad_kernel, None, None


def _eval_affine(layer: ConvModule):
    """``(scale, shift)`` per channel of a ConvModule's BatchNorm when it
    normalises with running statistics (eval mode), else None."""
    norm = layer.norm if layer.with_norm else None
    if (not isinstance(norm, _BatchNorm) or norm.training
            or norm.running_mean is None):
        return None
    scale = torch.rsqrt(norm.running_var + norm.eps)
    shift = -norm.running_mean * scale
    if norm.affine:
        scale, shift = scale * norm.weight, shift * norm.weight + norm.bias
    return scale, shift


def _conv_maps_last(layer: ConvModule, x: torch.Tensor):
    """A ConvModule (conv without bias + norm + act) on maps-last
    ``(H, W, C, M)`` maps; returns ``(H', W', C', M)``. Inference (no
    gradients, BN in eval mode) folds the BN into the products."""
    conv = layer.conv
    weight = conv.weight
    if torch.jit.is_tracing() or torch.compiler.is_compiling():
        # tracers (ONNX, FLOP counters) follow one product with stacked
        # patches (kh*kw*C, H'*W'*M), not buffer writes
        (kh, kw), (sh, sw), (ph, pw) = (conv.kernel_size, conv.stride,
                                        conv.padding)
        h, w, c, m = x.shape
        ho, wo = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
        padded = F.pad(x, (0, 0, 0, 0, pw, pw, ph, ph))
        cols = torch.stack([
            padded[i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw]
            for i in range(kh) for j in range(kw)
        ]).permute(0, 3, 1, 2, 4).reshape(kh * kw * c, -1)
        out = weight.permute(0, 2, 3, 1).reshape(weight.shape[0], -1) @ cols
        out = out.view(-1, ho, wo, m).permute(1, 2, 0, 3).contiguous()
        return _norm_act_maps_last(layer, out)
    device = x.device.type
    dtype = (torch.get_autocast_dtype(device)
             if torch.is_autocast_enabled(device) else x.dtype)
    affine = None if torch.is_grad_enabled() else _eval_affine(layer)
    with torch.autocast(device, enabled=False):
        x = x.to(dtype)
        if affine is None:
            out = _MapsLastConv.apply(x, weight.to(dtype), conv.stride,
                                      conv.padding)
            return _norm_act_maps_last(layer, out)
        scale, shift = affine
        kernel = (weight * scale.view(-1, 1, 1, 1)).permute(0, 2, 3, 1)
        out_size, blocks = _window_blocks(x.shape[:2], weight.shape[2:],
                                          conv.stride, conv.padding)
        out = _maps_last_products(x, kernel.to(dtype).contiguous(), blocks,
                                  out_size, shift.to(dtype))
    return layer.activate(out) if layer.with_activation else out


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

    Input ``(N*T, C, H, W)``; output ``(N, T, L, U, V, H', W')`` (cosine
    similarities, float32 under autocast, position-major memory: see
    :func:`selfy_mmaction.ops.local_correlation`).
    """

    def __init__(self, in_channels: int, num_segments: int = 8,
                 hidden_channels: int = 128,
                 window: Sequence[int] = (5, 9, 9),
                 dilation: Sequence[int] = (1, 1), stride: int = 2,
                 eps: float = 1e-6, conv_cfg: Optional[dict] = None,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU'),
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.num_segments = num_segments
        self.window = _check_window(window, type(self).__name__)
        self.dilation = tuple(dilation)
        self.eps = eps
        self.downsample = ConvModule(in_channels, hidden_channels, 3,
                                     stride=stride, padding=1, bias=False,
                                     conv_cfg=conv_cfg, norm_cfg=norm_cfg,
                                     act_cfg=act_cfg)

    def init_weights(self):
        _init_convs_and_norms(self)

    def forward(self, x):
        feats = to_ntchw(self.downsample(x), self.num_segments,
                         type(self).__name__)
        return stss(l2_normalize(feats, dim=2, eps=self.eps), self.window,
                    self.dilation)


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

    Input ``(N, T, L, U, V, H, W)``; output ``(N, T, L, C_F, H, W)`` with
    ``C_F = out_channels``.
    """

    def __init__(self, window: Sequence[int] = (5, 9, 9),
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
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.window = _check_window(window, type(self).__name__)
        if variant not in EXTRACTION_VARIANTS:
            raise ValueError(f'STSSExtraction: variant must be one of '
                             f'{EXTRACTION_VARIANTS}, got {variant!r}')
        self.variant = variant
        _, u, v = self.window
        layers = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg,
                      bias=False)
        if variant == 'conv':
            if len(strides) != len(channels) - 1:
                raise ValueError(
                    f'STSSExtraction: need {len(channels) - 1} strides for '
                    f'{len(channels)} conv layers, got {tuple(strides)}')
            size = (u, v)
            in_ch = 1
            for i, (out_ch, stride) in enumerate(zip(channels, strides)):
                self.add_module(
                    f'conv{i}',
                    ConvModule(in_ch, out_ch, 3, stride=stride, padding=1,
                               **layers))
                size = tuple((s - 1) // stride + 1 for s in size)
                in_ch = out_ch
            self.add_module(f'conv{len(channels) - 1}',
                            ConvModule(in_ch, channels[-1], size, **layers))
            self.out_channels = channels[-1]
            self.num_layers = len(channels)
        elif variant == 'mlp':
            in_ch = u * v
            for i, out_ch in enumerate(mlp_channels):
                self.add_module(f'fc{i}', ConvModule(in_ch, out_ch, 1,
                                                     **layers))
                in_ch = out_ch
            self.out_channels = mlp_channels[-1]
            self.num_layers = len(mlp_channels)
        else:
            self.temperature = temperature
            self.gaussian_sigma = gaussian_sigma
            self.with_confidence = with_confidence
            self.out_channels = 3 if with_confidence else 2
            rows = torch.arange(u, dtype=torch.float32) - u // 2
            cols = torch.arange(v, dtype=torch.float32) - v // 2
            self.register_buffer('offset_rows',
                                 rows.repeat_interleave(v), persistent=False)
            self.register_buffer('offset_cols', cols.repeat(u),
                                 persistent=False)

    def init_weights(self):
        _init_convs_and_norms(self)

    def forward(self, similarity: torch.Tensor):
        n, t, l, u, v, h, w = similarity.shape
        if (l, u, v) != self.window:
            raise ValueError(f'STSSExtraction: expected a (L, U, V) = '
                             f'{self.window} window, got {(l, u, v)} in '
                             f'input shape {tuple(similarity.shape)}')
        # one U*V map per (n, t, h, w, l): a view of position-major STSS
        maps = similarity.permute(0, 1, 5, 6, 2, 3, 4).reshape(-1, u * v)
        if self.variant == 'conv':
            feats = self._conv(maps).t()
        elif self.variant == 'mlp':
            feats = maps.t()
            for i in range(self.num_layers):
                layer = getattr(self, f'fc{i}')
                feats = _norm_act_maps_last(
                    layer, layer.conv.weight.flatten(1) @ feats)
            feats = feats.t()
        else:
            feats = self._softargmax(maps)
        feats = feats.reshape(n, t, h, w, l, -1)
        return feats.permute(0, 1, 4, 5, 2, 3).contiguous()

    def _conv(self, maps):
        """The conv stack on ``(M, U*V)`` maps (``M = N*T*H*W*L``), with the
        official sums arranged for speed: features are maps-last
        ``(H', W', C, M)``, the first conv (1 input channel) is one matrix
        product with its ``(U*V) x (H'*W'*C)`` operator, the others sums of
        products with row blocks (:class:`_MapsLastConv`). Returns
        ``(C_F, M)``."""
        _, u, v = self.window
        first = self.conv0
        basis = torch.eye(u * v, dtype=maps.dtype,
                          device=maps.device).view(u * v, 1, u, v)
        operator = F.conv2d(basis, first.conv.weight,
                            stride=first.conv.stride,
                            padding=first.conv.padding)
        _, channels, ho, wo = operator.shape
        operator = operator.permute(0, 2, 3, 1).reshape(u * v, -1)
        affine = None if torch.is_grad_enabled() else _eval_affine(first)
        if affine is None:
            feats = operator.t() @ maps.t()  # (H'*W'*C, M)
            feats = _norm_act_maps_last(first,
                                        feats.view(ho, wo, channels, -1))
        else:  # inference: the BN folded into the operator
            scale, shift = (v.repeat(ho * wo) for v in affine)
            feats = torch.addmm(shift[:, None], (operator * scale).t(),
                                maps.t())
            if first.with_activation:
                feats = first.activate(feats)
            feats = feats.view(ho, wo, channels, -1)
        for i in range(1, self.num_layers):
            feats = _conv_maps_last(getattr(self, f'conv{i}'), feats)
        return feats.view(-1, feats.shape[-1])

    def _softargmax(self, maps):
        _, u, v = self.window
        score = maps
        if self.gaussian_sigma is not None:
            peak = maps.argmax(dim=1, keepdim=True)
            dy = self.offset_rows - self.offset_rows[peak]
            dx = self.offset_cols - self.offset_cols[peak]
            score = maps * torch.exp(-(dy**2 + dx**2) /
                                     (2 * self.gaussian_sigma**2))
        prob = torch.softmax(score / self.temperature, dim=1)
        feats = [(prob * self.offset_cols).sum(1) / max(v // 2, 1),
                 (prob * self.offset_rows).sum(1) / max(u // 2, 1)]
        if self.with_confidence:
            feats.append(maps.amax(dim=1))
        return torch.stack(feats, dim=1)


class _StridedResidualReLU(torch.autograd.Function):
    """``relu(identity + shift + values at multiples of the stride)``: the
    block's output from the upsampling BN's scale and shift, one output
    buffer and one gradient buffer (autograd through the strided in-place
    sum would copy the whole gradient once more)."""

    @staticmethod
    def forward(ctx, identity, values, shift, stride):
        out = identity + shift
        out[:, :, ::stride, ::stride] += values
        out.relu_()
        ctx.save_for_backward(out)
        ctx.stride = stride
        return out

    @staticmethod
    def backward(ctx, grad):
        (out, ) = ctx.saved_tensors
        grad = torch.ops.aten.threshold_backward(grad, out, 0)
        s = ctx.stride
        return (grad, grad[:, :, ::s, ::s], grad.sum((0, 2, 3), keepdim=True),
                None)


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
        conv_cfg, norm_cfg, act_cfg (dict): Of the ConvModules.

    Input ``(N, T, L, C_F, H', W')`` and the output size ``(H, W)``; output
    ``(N*T, out_channels, H, W)``.
    """

    def __init__(self, in_channels: int, out_channels: int,
                 window: Sequence[int] = (5, 9, 9),
                 channels: Sequence[int] = (64, 64, 64, 64), stride: int = 2,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU'),
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.window = _check_window(window, type(self).__name__)
        self.in_channels = in_channels
        self.stride = stride
        layers = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg,
                      bias=False)
        length = self.window[0]
        in_ch = in_channels
        self.frame_convs = []
        for i, out_ch in enumerate(channels[:-1]):
            self.add_module(f'conv{i}', ConvModule(in_ch, out_ch, 3,
                                                   padding=1, **layers))
            self.frame_convs.append(f'conv{i}')
            in_ch = out_ch
        self.fuse_name = f'conv{len(channels) - 1}_fuse'
        self.add_module(self.fuse_name,
                        ConvModule(length * in_ch, channels[-1], 3, padding=1,
                                   **layers))
        self.upsample = ConvModule(channels[-1], out_channels, 1,
                                   stride=stride, bias=False,
                                   conv_cfg=dict(type='deconv'),
                                   norm_cfg=norm_cfg, act_cfg=None)

    def init_weights(self):
        _init_convs_and_norms(self)

    def forward(self, feats: torch.Tensor, output_size: Tuple[int, int],
                identity: Optional[torch.Tensor] = None):
        """The residual ``(N*T, out_channels, H, W)``, or with ``identity``
        (the block input, that shape) ``relu(identity + residual)``."""
        n, t, length, c, h, w = feats.shape
        if (length, c) != (self.window[0], self.in_channels):
            raise ValueError(
                f'STSSIntegration: expected (N, T, {self.window[0]}, '
                f'{self.in_channels}, H, W) features, got {tuple(feats.shape)}')
        out_h, out_w = output_size
        if not (0 <= out_h - (h - 1) * self.stride - 1 < self.stride and
                0 <= out_w - (w - 1) * self.stride - 1 < self.stride):
            raise ValueError(
                f'STSSIntegration: output size {tuple(output_size)} cannot '
                f'come from {(h, w)} with stride {self.stride}')
        x = feats.reshape(n * t * length, c, h, w)
        for name in self.frame_convs:
            x = getattr(self, name)(x)
        x = getattr(self, self.fuse_name)(
            x.reshape(n * t, length * x.shape[1], h, w))
        return self._upsample(x, (out_h, out_w), identity)

    def _upsample(self, x, output_size, identity):
        """The transposed 1x1 conv: a 1x1 conv whose values sit at multiples
        of the stride (zeros elsewhere), then its BN (and the residual sum).
        With a plain ``BatchNorm2d`` the map is never built: the BN is a
        per-channel ``scale`` and ``shift``, the zeros become ``shift``."""
        weight = self.upsample.conv.weight  # (in, out, 1, 1)
        nt, _, h, w = x.shape
        # (N*T*H'*W', in) @ (in, out): channels-last values
        y = x.permute(0, 2, 3, 1).reshape(-1, weight.shape[0]) @ weight.view(
            weight.shape[0], -1)
        y = y.view(nt, h, w, -1).permute(0, 3, 1, 2)
        s = self.stride
        affine = self._upsample_affine(y, nt * output_size[0] *
                                       output_size[1])
        if affine is None:  # other norm layers: on the explicit map
            out = y.new_zeros(nt, y.shape[1], *output_size)
            out[:, :, ::s, ::s] = y
            out = _norm_act(self.upsample, out)
            return out if identity is None else F.relu(identity + out)
        scale, shift = (v.to(y.dtype).view(1, -1, 1, 1) for v in affine)
        if identity is None:
            out = shift.expand(nt, -1, *output_size).clone()
            out[:, :, ::s, ::s] += y * scale
            return out
        if torch.jit.is_tracing() or torch.compiler.is_compiling():
            out = identity + shift
            out[:, :, ::s, ::s] += y * scale
            return out.relu()
        return _StridedResidualReLU.apply(identity, y * scale, shift, s)

    def _upsample_affine(self, y, count):
        """``(scale, shift)`` of the upsampling ``nn.BatchNorm2d`` on a map of
        ``count`` values per channel that holds ``y`` and zeros: batch
        statistics from ``y`` alone (each zero adds ``mean ** 2`` to the
        variance sum), running statistics updated as the module would. None
        for any other norm layer."""
        bn = self.upsample.norm if self.upsample.with_norm else None
        if type(bn) is not nn.BatchNorm2d:
            return None
        if bn.training or bn.running_mean is None:
            values = y.to(torch.promote_types(y.dtype, torch.float32))
            per_channel = values.numel() // values.shape[1]
            mean = values.sum((0, 2, 3)) / count
            var = ((values - mean.view(1, -1, 1, 1)).square().sum(
                (0, 2, 3)) + (count - per_channel) * mean.square()) / count
            if bn.training and bn.track_running_stats:
                factor = bn.momentum
                if bn.num_batches_tracked is not None:
                    bn.num_batches_tracked.add_(1)
                    if bn.momentum is None:
                        factor = 1.0 / float(bn.num_batches_tracked)
                with torch.no_grad():
                    bn.running_mean.mul_(1 - factor).add_(mean, alpha=factor)
                    bn.running_var.mul_(1 - factor).add_(
                        var * (count / max(count - 1, 1)), alpha=factor)
        else:
            mean, var = bn.running_mean, bn.running_var
        scale = torch.rsqrt(var + bn.eps)
        if bn.affine:
            scale = scale * bn.weight
        shift = -mean * scale
        if bn.affine:
            shift = shift + bn.bias
        return scale, shift


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
        zero_init_last (bool): Start the last BN at 0 (block = ReLU).
            Defaults to True.
        conv_cfg, norm_cfg, act_cfg (dict): Of every ConvModule.

    Input and output ``(N*T, C, H, W)`` (any ``H, W``, e.g. odd).
    """

    def __init__(self, in_channels: int, num_segments: int = 8,
                 hidden_channels: int = 128,
                 window: Sequence[int] = (5, 9, 9),
                 dilation: Sequence[int] = (1, 1), stride: int = 2,
                 extraction: str = 'conv',
                 extraction_channels: Sequence[int] = (4, 16, 64, 64),
                 extraction_strides: Sequence[int] = (1, 2, 2),
                 extraction_cfg: Optional[dict] = None,
                 integration_channels: Sequence[int] = (64, 64, 64, 64),
                 eps: float = 1e-6, zero_init_last: bool = True,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU'),
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if num_segments < 1:
            raise ValueError(f'SELFYBlock: num_segments must be >= 1, got '
                             f'{num_segments}')
        self.in_channels = in_channels
        self.num_segments = num_segments
        self.window = _check_window(window, type(self).__name__)
        self.zero_init_last = zero_init_last
        layers = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.stss_transformation = STSSTransformation(
            in_channels, num_segments, hidden_channels, window, dilation,
            stride, eps, **layers)
        self.stss_extraction = STSSExtraction(
            window, extraction, extraction_channels, extraction_strides,
            **(extraction_cfg or {}), **layers)
        self.stss_integration = STSSIntegration(
            self.stss_extraction.out_channels, in_channels, window,
            integration_channels, stride, **layers)
        self.init_weights()

    def init_weights(self):
        """Official init; the BN after the upsampling starts at 0."""
        _init_convs_and_norms(self)
        if self.zero_init_last:
            constant_init(self.stss_integration.upsample.bn, 0, 0)

    def forward(self, x):
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f'SELFYBlock: expected input (N*T, {self.in_channels}, H, W), '
                f'got {tuple(x.shape)}')
        check_segments(x, self.num_segments, type(self).__name__)
        similarity = self.stss_transformation(x)
        feats = self.stss_extraction(similarity)
        return self.stss_integration(feats, x.shape[-2:], identity=x)
