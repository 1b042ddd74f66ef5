"""CoST: Collaborative SpatioTemporal feature learning (Li, Zhong, Xie, Pu,
CVPR 2019).

One ``k x k`` kernel (the ResNet's 3x3 conv2 weight) convolves three views of
the ``(T, H, W)`` volume, H-W (``1x3x3``), T-W (``3x1x3``) and T-H
(``3x3x1``) (:func:`shared_kernel_views`), and the outputs are summed with
per-channel view coefficients ``a`` (softmax over the 3 views), then the
conv's own BN and ReLU:

* CoST(a): ``a = softmax(P)`` of a learned ``(3, C_out)`` parameter ``P``,
  initialised 0.7 for H-W and -0.7 for the others (3 C_out parameters).
* CoST(b): per sample, the global max of each view -> an FC C_out -> C_out
  (no bias, shared by the views) -> an FC 3 -> 3 across the views of each
  channel (no bias) -> softmax over views. FCs start N(0, 0.01)
  (C_out^2 + 9 parameters).

Two forms:

* 2D recipe (Recognizer2D): :class:`CoSTConv` at ``position='wrap_conv2'``
  of :class:`ResNetWithBlocks`, ``indices=COST_INDICES_R50`` (the authors'
  ``inflate`` pattern: 8 of the 16 bottlenecks); it reshapes the frames to
  ``(N, C, T, H, W)`` inside, T kept in every stage.
* The authors' form (Recognizer3D): the backbone
  :class:`~selfy_mmaction.models.backbones.cost.ResNet3dCoST`, MMAction2's
  ``ResNet3d`` with 1x1x1 conv1 and 1x3x3 conv2 everywhere (``inflate=0``)
  and conv2 replaced by :class:`CoSTConv` in the marked blocks.

The view coefficients are held in ``nn.Linear`` layers (CoST(a)'s ``P`` as
the weight of a bias-free ``Linear(1, 3 C_out)``) so that optimizer
constructors that dispatch on module type (MMAction2's
``TSMOptimWrapperConstructor``) see them as weights with weight decay, as
the authors' default optimizer does.
"""

from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmcv.cnn import ConvModule
from mmengine.model.weight_init import normal_init

from ...ops.factorised import shared_kernel_views
from ...ops.layout import to_4d, to_5d
from .base import MotionBlock

#: The authors' ``inflate`` pattern for ResNet-50: blocks that get CoST.
COST_INDICES_R50 = ((0, 1, 0), (1, 0, 1, 0), (1, 0, 1, 0, 1, 0), (1, 0, 1))
COST_VARIANTS = ('a', 'b')
VIEWS = ('hw', 'tw', 'th')


@MODELS.register_module()
class CoSTConv(MotionBlock):
    """CoST(a) or CoST(b) around a ResNet's 3x3 ``ConvModule``.

    Args:
        net (ConvModule): ``ConvModule`` with an ``nn.Conv2d`` ``k x k`` conv
            (2D layout) or an ``nn.Conv3d`` ``1 x k x k`` conv (3D layout),
            no bias, groups 1, "same" padding, then its norm and activation;
            filled in by the backbone. Its weight is the shared kernel.
        num_segments (int, optional): ``T`` for the 2D layout (filled in by
            the backbone); unused for a Conv3d ``net``.
        variant (str): ``'a'`` or ``'b'``. Defaults to ``'a'``.
        init_logits (Sequence[float]): CoST(a)'s initial ``P`` for the H-W,
            T-W, T-H views. Defaults to ``(0.7, -0.7, -0.7)``.
        fc_init_std (float): CoST(b)'s FC init std. Defaults to 0.01.
        init_cfg (dict, optional): Replaces :meth:`default_init`
            (:class:`MotionBlock`). Defaults to None.

    Input ``(N*T, C_in, H, W)`` (2D) or ``(N, C_in, T, H, W)`` (3D); output
    the layout of the input with ``net``'s channels and spatial size.
    """

    def __init__(
        self,
        net: ConvModule,
        num_segments: Optional[int] = None,
        variant: str = 'a',
        init_logits: Sequence[float] = (0.7, -0.7, -0.7),
        fc_init_std: float = 0.01,
        init_cfg: Optional[dict] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        conv = getattr(net, 'conv', None)
        if not isinstance(conv, (nn.Conv2d, nn.Conv3d)):
            raise TypeError(
                f'CoSTConv wraps a ConvModule holding an '
                f'nn.Conv2d or nn.Conv3d (wrap_conv2 of a plain '
                f'ResNet, is_shift=False), got '
                f'{type(net).__name__} with conv '
                f'{type(conv).__name__}'
            )
        if variant not in COST_VARIANTS:
            raise ValueError(
                f'variant must be one of {COST_VARIANTS}, got {variant!r}'
            )
        if len(init_logits) != 3:
            raise ValueError(
                f'init_logits needs one value per view (3), got '
                f'{tuple(init_logits)}'
            )
        self.is_3d = isinstance(conv, nn.Conv3d)
        k = conv.kernel_size[-1]
        spatial = tuple(conv.kernel_size[-2:])
        if (
            (self.is_3d and conv.kernel_size[0] != 1)
            or spatial != (k, k)
            or k % 2 != 1
            or conv.groups != 1
            or conv.bias is not None
            or tuple(conv.padding[-2:]) != (k // 2, k // 2)
            or any(d != 1 for d in conv.dilation)
        ):
            raise ValueError(
                f'CoSTConv shares a square odd k x k kernel (1 x k x k in '
                f'3D) with "same" padding, no dilation, groups or bias; got '
                f'kernel {conv.kernel_size}, padding {conv.padding}, '
                f'dilation {conv.dilation}, groups {conv.groups}, bias '
                f'{conv.bias is not None}'
            )
        if tuple(getattr(net, 'order', ())) != ('conv', 'norm', 'act'):
            raise ValueError(
                f'CoSTConv needs a ConvModule ordered (conv, '
                f'norm, act), got {getattr(net, "order", None)}'
            )
        if not self.is_3d and num_segments is None:
            raise ValueError(
                'CoSTConv around an nn.Conv2d needs '
                'num_segments (the 2D layout)'
            )
        self.net = net
        self.num_segments = num_segments
        self.variant = variant
        self.init_logits = tuple(init_logits)
        self.fc_init_std = fc_init_std
        self.stride = tuple(conv.stride) if self.is_3d else (1, *conv.stride)
        channels = conv.out_channels
        if variant == 'a':
            self.view_logits = nn.Linear(1, 3 * channels, bias=False)
        else:
            self.channel_fc = nn.Linear(channels, channels, bias=False)
            self.view_fc = nn.Linear(3, 3, bias=False)

    def default_init(self) -> None:
        """CoST(a): ``P`` rows to ``init_logits``; CoST(b): FCs N(0, std).
        ``net`` keeps its weights."""
        if self.variant == 'a':
            with torch.no_grad():
                logits = self.view_logits.weight.view(3, -1)
                for row, value in zip(logits, self.init_logits):
                    row.fill_(value)
        else:
            normal_init(self.channel_fc, std=self.fc_init_std)
            normal_init(self.view_fc, std=self.fc_init_std)

    def view_coefficients(self, views: Sequence[torch.Tensor]) -> torch.Tensor:
        """``(3, N or 1, C_out)`` view weights, summing to 1 over views."""
        if self.variant == 'a':
            logits = self.view_logits.weight.view(3, 1, -1)
        else:
            pooled = torch.stack([v.amax(dim=(2, 3, 4)) for v in views])
            logits = self.channel_fc(pooled)  # (3, N, C)
            logits = self.view_fc(logits.permute(1, 2, 0)).permute(2, 0, 1)
        return logits.softmax(dim=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.is_3d:
            x5 = x
        else:
            # the 2D layout's T, required in __init__
            assert self.num_segments is not None
            x5 = to_5d(x, self.num_segments, type(self).__name__)
        views = shared_kernel_views(
            x5, self.net.conv.weight, self.stride, VIEWS
        )
        coeffs = self.view_coefficients(views)[..., None, None, None]
        y = sum(a * v for a, v in zip(coeffs, views))
        y = self.net.norm(y if self.is_3d else to_4d(y))
        return self.net.activate(y) if self.net.with_activation else y
