"""Fast CPU kernels of the SELFY block's layers (``SELFYBlock(impl='fast')``).

They compute exactly what calling the layers' ``ConvModule``s would
(``selfy_mmaction/models/blocks/selfy.py`` calls them; tests check float64
to 1e-10, outputs, gradients and BatchNorm running statistics), arranged
for speed:

* :func:`maps_last_conv_stack`: STSS extraction's convs on the ``M`` maps
  ``(U, V)`` of every position and temporal offset (``M = N*T*H*W*L``).
  Features are maps-last ``(H', W', C, M)``: the first conv (1 input
  channel) is one product with its dense ``(U*V) x (H'*W'*C)`` operator,
  the others, per output position, sums of products of weight slices with
  the contiguous row blocks of its window (:class:`_MapsLastConv`: no patch
  copies, no products with the zero padding). BatchNorm sees
  ``(H'*W', C, M, 1)`` (PyTorch's contiguous kernel: fast, and as precise
  as the plain layout; its channels-last CPU kernel would lose about three
  float32 digits here). Inference (no gradients, BatchNorm in eval mode)
  folds the BatchNorm into the products.
* :func:`maps_last_fc_stack`: the ``'mlp'`` extraction (1x1 convs on the
  flattened maps) as products with ``(C, M)`` features.
* :func:`strided_upsample`: STSS integration's 1x1 transposed conv
  (stride ``s``) + BatchNorm: the values at multiples of the stride are a
  1x1 conv; the BatchNorm is a per-channel scale and shift whose batch
  statistics come from those values (each zero between adds ``mean ** 2``
  to the variance sum), its running statistics updated as the module would;
  with the block input, ``relu(input + residual)`` in one buffer
  (:class:`_StridedResidualReLU`).

:func:`fast_path_applies` says when they may replace the layers: not under
a tracer (FLOP counters, ONNX, ``torch.compile`` follow the layers), no
hook on any of the layers (hooks see the layers' own tensors), plain
``nn.Conv2d``/``nn.ConvTranspose2d`` convs, a per-channel BatchNorm (or no
norm; GroupNorm and InstanceNorm statistics are per map, which the
maps-last layout would mix) and an element-wise activation (or none).
Otherwise the block calls its layers.
"""

from typing import Any, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmcv.cnn.bricks import wrappers
from mmengine.utils.dl_utils.parrots_wrapper import (
    SyncBatchNorm as MMSyncBatchNorm,
)
from torch.nn.modules import module as torch_module

__all__ = [
    'fast_path_applies',
    'maps_last_conv_stack',
    'maps_last_fc_stack',
    'strided_upsample',
]

# per-channel statistics over every other axis, whatever the layout
_CHANNEL_NORMS = (nn.BatchNorm2d, nn.SyncBatchNorm, MMSyncBatchNorm)
# deterministic, element-wise: the layout does not matter
_ELEMENTWISE_ACTS = (
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.ELU,
    nn.GELU,
    nn.SiLU,
    nn.Sigmoid,
    nn.Tanh,
    nn.Hardsigmoid,
    nn.Hardswish,
    nn.Mish,
)
_CONVS = (nn.Conv2d, wrappers.Conv2d)
_DECONVS = (nn.ConvTranspose2d, wrappers.ConvTranspose2d)


def _hooked(module: nn.Module):
    """Whether a hook is registered on ``module`` or a child, or globally
    on every module."""
    if (
        torch_module._global_forward_hooks
        or torch_module._global_forward_pre_hooks
        or torch_module._global_backward_hooks
        or torch_module._global_backward_pre_hooks
    ):
        return True
    return any(
        m._forward_hooks
        or m._forward_pre_hooks
        or m._backward_hooks
        or m._backward_pre_hooks
        for m in module.modules()
    )


def _plain_layer(layer: ConvModule, convs: Tuple[type, ...]) -> bool:
    """A ConvModule the kernels reproduce: ``convs`` conv without bias,
    groups, dilation, explicit padding or a non-zero padding mode, then a
    per-channel BatchNorm (or none), then an element-wise activation (or
    none)."""
    conv = layer.conv
    return (
        type(conv) in convs
        and conv.bias is None
        and conv.groups == 1
        and conv.dilation == (1, 1)
        and conv.padding_mode == 'zeros'
        and not layer.with_explicit_padding
        and tuple(layer.order) == ('conv', 'norm', 'act')
        and getattr(layer, 'efficient_conv_bn_eval_forward', None) is None
        and (not layer.with_norm or type(layer.norm) in _CHANNEL_NORMS)
        and (
            not layer.with_activation
            or type(layer.activate) in _ELEMENTWISE_ACTS
        )
    )


def fast_path_applies(
    layers: Sequence[ConvModule], transposed: bool = False
) -> bool:
    """Whether the kernels compute what calling ``layers`` would, and no
    one watches the layers: not tracing or compiling, no hooks, plain layers
    (see the module docstring). ``transposed``: the layers are
    :func:`strided_upsample`'s (1x1 transposed conv, BatchNorm2d or no
    norm, no activation)."""
    if torch.jit.is_tracing() or torch.compiler.is_compiling():
        return False
    for layer in layers:
        if _hooked(layer):
            return False
        if transposed:
            plain = (
                _plain_layer(layer, _DECONVS)
                and layer.conv.kernel_size == (1, 1)
                and layer.conv.padding == (0, 0)
                and not layer.with_activation
                and (not layer.with_norm or type(layer.norm) is nn.BatchNorm2d)
            )
        else:
            plain = _plain_layer(layer, _CONVS)
        if not plain:
            return False
    return True


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
    precise as the plain layout; its channels-last CPU kernel loses
    float32 digits on these maps)."""
    return _norm_act(layer, x.view(-1, *x.shape[-2:], 1)).view(x.shape)


#: Per output position, the ``(rows, cols, kernel_rows, kernel_cols)``
#: slices of its window (:func:`_window_blocks`).
_Blocks = List[List[Tuple[slice, slice, slice, slice]]]


def _window_blocks(
    size: Sequence[int],
    kernel: Sequence[int],
    stride: Sequence[int],
    padding: Sequence[int],
) -> Tuple[Tuple[int, int], _Blocks]:
    """A conv's windows on maps-last ``(H, W, C, M)`` maps: per output
    position (row-major), the ``(rows, cols, kernel_rows, kernel_cols)``
    slices of its window inside the map, one per input row, or one for all
    rows when they are whole (then ``x[rows, cols]`` is still one
    contiguous ``(K, M)`` block). Returns ``(H', W')`` and the blocks."""
    (h, w), (kh, kw), (sh, sw), (ph, pw) = size, kernel, stride, padding
    out_size = ((h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1)
    blocks: _Blocks = []
    for oh in range(out_size[0]):
        for ow in range(out_size[1]):
            top, left = oh * sh - ph, ow * sw - pw
            r0, r1 = max(top, 0), min(top + kh, h)
            c0, c1 = max(left, 0), min(left + kw, w)
            if r0 >= r1 or c0 >= c1:
                blocks.append([])
                continue
            cols, kcols = slice(c0, c1), slice(c0 - left, c1 - left)
            spans = (
                [(r0, r1)]
                if c1 - c0 == w
                else [(r, r + 1) for r in range(r0, r1)]
            )
            blocks.append(
                [
                    (slice(a, b), cols, slice(a - top, b - top), kcols)
                    for a, b in spans
                ]
            )
    return out_size, blocks


def _maps_last_products(
    x: torch.Tensor,
    kernel: torch.Tensor,
    blocks: _Blocks,
    out_size: Tuple[int, int],
    bias: Optional[torch.Tensor] = None,
) -> torch.Tensor:
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
    def forward(
        ctx: Any,
        x: torch.Tensor,
        weight: torch.Tensor,
        stride: Sequence[int],
        padding: Sequence[int],
    ) -> torch.Tensor:
        out_size, blocks = _window_blocks(
            x.shape[:2], weight.shape[2:], stride, padding
        )
        kernel = weight.permute(0, 2, 3, 1).contiguous()  # (C', kh, kw, C)
        ctx.save_for_backward(x, kernel)
        ctx.blocks = blocks
        return _maps_last_products(x, kernel, blocks, out_size)

    @staticmethod
    def backward(
        ctx: Any, grad: torch.Tensor
    ) -> Tuple[Optional[torch.Tensor], Optional[torch.Tensor], None, None]:
        x, kernel = ctx.saved_tensors
        m, cout = x.shape[-1], kernel.shape[0]
        grad = grad.contiguous().view(-1, cout, m)
        grad_x = torch.zeros_like(x) if ctx.needs_input_grad[0] else None
        grad_kernel = (
            torch.zeros_like(kernel) if ctx.needs_input_grad[1] else None
        )
        for pos, parts in zip(grad, ctx.blocks):
            for rows, cols, krows, kcols in parts:
                if grad_x is not None:
                    grad_x[rows, cols].view(-1, m).addmm_(
                        kernel[:, krows, kcols].reshape(cout, -1).t(), pos
                    )
                if grad_kernel is not None:
                    part = grad_kernel[:, krows, kcols]
                    part += (pos @ x[rows, cols].reshape(-1, m).t()).view(
                        part.shape
                    )
        if grad_kernel is not None:
            grad_kernel = grad_kernel.permute(0, 3, 1, 2)
        return grad_x, grad_kernel, None, None


class _ContiguousGrad(torch.autograd.Function):
    """Identity whose backward makes the gradient contiguous. PyTorch's CPU
    BatchNorm backward (2.13) returns wrong input gradients for a
    ``(1, C, M, 1)`` input when the output gradient has channels-last
    strides (e.g. ``(M, C).t()`` viewed as it): the maps-last layers' last
    output ``(1, 1, C, M)`` is read as ``(M, C)``, so its gradient comes
    back in that layout unless the backward of a ReLU in between writes a
    new one in the input's layout."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        return x.view_as(x)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        return grad.contiguous()


def _last_output(layer: ConvModule, feats: torch.Tensor):
    """``feats``, the maps-last output of the last layer, with its gradient
    made contiguous where the BatchNorm backward needs it (see
    :class:`_ContiguousGrad`; a ReLU's backward already does it, at no
    cost)."""
    if layer.with_norm and not (
        layer.with_activation and type(layer.activate) is nn.ReLU
    ):
        return _ContiguousGrad.apply(feats)
    return feats


def _eval_affine(layer: ConvModule):
    """``(scale, shift)`` per channel of a ConvModule's BatchNorm when it
    normalises with running statistics (eval mode), else None."""
    norm = layer.norm if layer.with_norm else None
    if norm is None or norm.training or norm.running_mean is None:
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
    device = x.device.type
    dtype = (
        torch.get_autocast_dtype(device)
        if torch.is_autocast_enabled(device)
        else x.dtype
    )
    affine = None if torch.is_grad_enabled() else _eval_affine(layer)
    with torch.autocast(device, enabled=False):
        x = x.to(dtype)
        if affine is None:
            out = _MapsLastConv.apply(
                x, weight.to(dtype), conv.stride, conv.padding
            )
            return _norm_act_maps_last(layer, out)
        scale, shift = affine
        kernel = (weight * scale.view(-1, 1, 1, 1)).permute(0, 2, 3, 1)
        out_size, blocks = _window_blocks(
            x.shape[:2], weight.shape[2:], conv.stride, conv.padding
        )
        out = _maps_last_products(
            x, kernel.to(dtype).contiguous(), blocks, out_size, shift.to(dtype)
        )
    return layer.activate(out) if layer.with_activation else out


def maps_last_conv_stack(
    layers: Sequence[ConvModule], maps: torch.Tensor, window: Sequence[int]
) -> torch.Tensor:
    """``layers`` (the first with one input channel) applied to each of the
    ``M`` maps ``(U, V)`` = ``window`` of ``maps`` ``(M, U*V)``, as
    ``x = layer(x)`` on ``(M, 1, U, V)`` would. Returns ``(M, C)`` features
    of the last layer, whose output must be 1x1 (a transposed view)."""
    u, v = window
    first = layers[0]
    basis = torch.eye(u * v, dtype=maps.dtype, device=maps.device).view(
        u * v, 1, u, v
    )
    operator = F.conv2d(
        basis,
        first.conv.weight,
        stride=first.conv.stride,
        padding=first.conv.padding,
    )
    _, channels, ho, wo = operator.shape
    operator = operator.permute(0, 2, 3, 1).reshape(u * v, -1)
    affine = None if torch.is_grad_enabled() else _eval_affine(first)
    if affine is None:
        feats = operator.t() @ maps.t()  # (H'*W'*C, M)
        feats = _norm_act_maps_last(first, feats.view(ho, wo, channels, -1))
    else:  # inference: the BN folded into the operator
        scale, shift = (v.repeat(ho * wo) for v in affine)
        feats = torch.addmm(shift[:, None], (operator * scale).t(), maps.t())
        if first.with_activation:
            feats = first.activate(feats)
        feats = feats.view(ho, wo, channels, -1)
    for layer in layers[1:]:
        feats = _conv_maps_last(layer, feats)
    feats = _last_output(layers[-1], feats)
    return feats.view(-1, feats.shape[-1]).t()


def maps_last_fc_stack(
    layers: Sequence[ConvModule], maps: torch.Tensor
) -> torch.Tensor:
    """1x1 ``layers`` on ``maps`` ``(M, C)``, as ``x = layer(x)`` on
    ``(M, C, 1, 1)`` would. Returns ``(M, C')`` (a transposed view)."""
    feats = maps.t()
    for layer in layers:
        feats = _norm_act_maps_last(
            layer, layer.conv.weight.flatten(1) @ feats
        )
    return _last_output(layers[-1], feats).t()


class _StridedResidualReLU(torch.autograd.Function):
    """``relu(identity + shift + values at multiples of the stride)``: the
    block's output from the upsampling BN's scale and shift, one output
    buffer and one gradient buffer (autograd through the strided in-place
    sum would copy the whole gradient once more)."""

    @staticmethod
    def forward(
        ctx: Any,
        identity: torch.Tensor,
        values: torch.Tensor,
        shift: torch.Tensor,
        stride: int,
    ) -> torch.Tensor:
        out = identity + shift
        out[:, :, ::stride, ::stride] += values
        out.relu_()
        ctx.save_for_backward(out)
        ctx.stride = stride
        return out

    @staticmethod
    def backward(
        ctx: Any, grad: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, None]:
        (out,) = ctx.saved_tensors
        grad = torch.ops.aten.threshold_backward(grad, out, 0)
        s = ctx.stride
        return (
            grad,
            grad[:, :, ::s, ::s],
            grad.sum((0, 2, 3), keepdim=True),
            None,
        )


def _upsample_affine(bn: nn.BatchNorm2d, y: torch.Tensor, count: int):
    """``(scale, shift)`` of ``bn`` on a map of ``count`` values per channel
    that holds ``y`` and zeros: batch statistics from ``y`` alone (each
    zero adds ``mean ** 2`` to the variance sum), running statistics updated
    as the module would."""
    running_mean, running_var = bn.running_mean, bn.running_var
    if bn.training or running_mean is None or running_var is None:
        values = y.to(torch.promote_types(y.dtype, torch.float32))
        per_channel = values.numel() // values.shape[1]
        mean = values.sum((0, 2, 3)) / count
        var = (
            (values - mean.view(1, -1, 1, 1)).square().sum((0, 2, 3))
            + (count - per_channel) * mean.square()
        ) / count
        if (
            bn.training
            and bn.track_running_stats
            and running_mean is not None
            and running_var is not None
        ):
            factor = 0.0 if bn.momentum is None else bn.momentum
            if bn.num_batches_tracked is not None:
                bn.num_batches_tracked.add_(1)
                if bn.momentum is None:
                    factor = 1.0 / float(bn.num_batches_tracked)
            with torch.no_grad():
                running_mean.mul_(1 - factor).add_(mean, alpha=factor)
                running_var.mul_(1 - factor).add_(
                    var * (count / max(count - 1, 1)), alpha=factor
                )
    else:
        mean, var = running_mean, running_var
    scale = torch.rsqrt(var + bn.eps)
    if bn.affine:
        scale = scale * bn.weight
    shift = -mean * scale
    if bn.affine:
        shift = shift + bn.bias
    return scale, shift


def strided_upsample(
    upsample: ConvModule,
    x: torch.Tensor,
    output_size: Sequence[int],
    identity: Optional[torch.Tensor] = None,
) -> torch.Tensor:
    """``upsample`` (1x1 transposed conv without bias, stride ``s``, then
    ``nn.BatchNorm2d`` or no norm) on ``x`` ``(N*T, C, H', W')`` to
    ``output_size`` ``(H, W)`` (values at multiples of ``s``, zeros
    between, then the BN); with ``identity`` (``(N*T, C_out, H, W)``)
    ``relu(identity + that)``. The zero-filled map is never built."""
    weight = upsample.conv.weight  # (in, out, 1, 1)
    s = upsample.conv.stride[0]
    nt, _, h, w = x.shape
    # (N*T*H'*W', in) @ (in, out): channels-last values
    y = x.permute(0, 2, 3, 1).reshape(-1, weight.shape[0]) @ weight.view(
        weight.shape[0], -1
    )
    y = y.view(nt, h, w, -1).permute(0, 3, 1, 2)
    if upsample.with_norm:
        scale, shift = _upsample_affine(
            upsample.norm, y, nt * output_size[0] * output_size[1]
        )
        y = y * scale.to(y.dtype).view(1, -1, 1, 1)
        shift = shift.to(y.dtype).view(1, -1, 1, 1)
    else:
        shift = y.new_zeros(1, y.shape[1], 1, 1)
    if identity is None:
        out = shift.expand(nt, -1, *output_size).clone()
        out[:, :, ::s, ::s] += y
        return out
    return _StridedResidualReLU.apply(identity, y, shift, s)
