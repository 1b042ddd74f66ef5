"""Normalisation layers.

:class:`TemporalGroupNorm` is the layer-dependable temporal group
normalisation of variable playback speed prediction (Cho et al., IEEE Access
2021, fig. 2): the ``T`` frames of a ``(N, C, T, H, W)`` map are split into
``G`` consecutive groups, each normalised by its own BatchNorm (own
statistics and affine parameters). It is a BatchNorm over ``G*C`` channels
(group-major: index ``g*C + c``) of the map reshaped to ``(N, G*C, T/G, H,
W)``, so with ``G = 1`` it is exactly ``nn.BatchNorm3d`` with the same state
dict. Registered with ``_abbr_ = 'bn'``, so ``ConvModule`` names it ``bn``
and checkpoint keys stay MMAction2's.

Layer dependence: with ``base_channels`` set, a layer of ``C`` channels uses
``max(1, num_groups * base_channels // C)`` groups, i.e. ``num_groups`` at the
stem width and half as many each time the width doubles. In R3D-style
BasicBlock ResNets the width doubles exactly where the temporal stride halves
``T``, so every group keeps the same number of frames. Use it through
``norm_cfg=dict(type='TemporalGroupNorm', num_groups=4, base_channels=64)``.
"""

from typing import Optional

import torch
import torch.nn as nn
from mmaction.registry import MODELS


@MODELS.register_module()
class TemporalGroupNorm(nn.BatchNorm3d):
    """BatchNorm with separate statistics and affine per temporal group.

    Args:
        num_features (int): ``C``.
        num_groups (int): ``G`` (at ``base_channels`` channels when that is
            set). Defaults to 1 (plain BatchNorm).
        base_channels (int, optional): Width at which ``num_groups`` holds;
            other widths scale ``G`` inversely (see the module docstring).
            Defaults to None: ``G = num_groups`` everywhere.
        eps, momentum, affine, track_running_stats: as ``nn.BatchNorm3d``.

    Input and output ``(N, C, T, H, W)`` with ``T`` divisible by ``G``.
    ``weight``, ``bias``, ``running_mean`` and ``running_var`` have ``G*C``
    entries, group-major.
    """

    _abbr_ = 'bn'

    def __init__(
        self,
        num_features: int,
        num_groups: int = 1,
        base_channels: Optional[int] = None,
        eps: float = 1e-5,
        momentum: float = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
    ):
        if num_groups < 1:
            raise ValueError(f'num_groups must be >= 1, got {num_groups}')
        groups = num_groups
        if base_channels is not None:
            groups = max(1, num_groups * base_channels // num_features)
        super().__init__(
            num_features * groups, eps, momentum, affine, track_running_stats
        )
        self.num_channels = num_features
        self.num_groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 5 or x.shape[1] != self.num_channels:
            raise ValueError(
                f'TemporalGroupNorm expects (N, '
                f'{self.num_channels}, T, H, W), got shape '
                f'{tuple(x.shape)}'
            )
        n, c, t, h, w = x.shape
        g = self.num_groups
        if t % g:
            raise ValueError(
                f'TemporalGroupNorm ({c} channels) splits T into '
                f'{g} groups: T must be a multiple of {g}, got '
                f'T={t} (input shape {tuple(x.shape)})'
            )
        grouped = x.reshape(n, c, g, t // g, h, w).transpose(1, 2)
        out = super().forward(grouped.reshape(n, g * c, t // g, h, w))
        return out.view(n, g, c, t // g, h, w).transpose(1, 2).reshape(x.shape)

    def extra_repr(self) -> str:
        return (
            f'{self.num_channels}, num_groups={self.num_groups}, '
            f'eps={self.eps}, momentum={self.momentum}, '
            f'affine={self.affine}, '
            f'track_running_stats={self.track_running_stats}'
        )
