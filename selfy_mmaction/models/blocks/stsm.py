"""STSM: Spatio-Temporal Shift Module (Yang, An, Zhang, arXiv 2112.02523;
Mathematics 10(18):3290, 2022).

No public code and no PDF read: this is our reading of the abstract ("a
spatio-temporal shift is a convolution with a sparse kernel", no extra
parameters or FLOPs, plug-and-play in a 2D CNN), built as a generalisation
of MMAction2's ``TemporalShift``. Every choice below is ours:

* Channel groups, in channel order (``fold = C // shift_div``,
  ``sfold = C // spatial_div``): ``fold`` channels read ``t+1``, ``fold``
  read ``t-1`` (exactly TSM's two folds), then ``sfold`` channels each read
  ``h+1``, ``h-1``, ``w+1``, ``w-1`` (a ShiftNet-style one-pixel shift); the
  rest are kept. Defaults ``shift_div=8`` (TSM) and ``spatial_div=16``: 1/4
  of the channels move in time, 1/4 in space, 1/2 stay.
* Zero padding at the clip ends (as TSM) and at the frame borders.
* Placement: TSM's residual "blockres" shift, before conv1 of every
  bottleneck: ``position='wrap_conv1'`` in all four stages of
  :class:`ResNetTSMWithBlocks` with ``is_shift=False`` (STSM replaces TSM's
  own shift, which would otherwise also wrap ``conv1.conv``).

With ``spatial_div=None`` the module is ``TemporalShift`` exactly. FLOP
counters report 0 for the shift (memory moves only).
"""

import copy
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
from mmaction.models.backbones.resnet_tsm import TemporalShift
from mmaction.registry import MODELS

from ...ops.shift import spatiotemporal_shift
from .base import MotionBlock


@MODELS.register_module()
class SpatioTemporalShift(TemporalShift, MotionBlock):
    """Shift channel groups in time and space, then run ``net``.

    Args:
        net (nn.Module): The module after the shift (a bottleneck's conv1
            ``ConvModule``); filled in by the backbone.
        num_segments (int): ``T``; filled in by the backbone.
        shift_div (int): ``C // shift_div`` channels read ``t+1`` and as many
            read ``t-1``. Defaults to 8.
        spatial_div (int, optional): ``C // spatial_div`` channels for each of
            the four one-pixel spatial shifts; ``None`` gives TSM.
            Defaults to 16.
        init_cfg (dict, optional): Replaces :meth:`default_init`
            (:class:`MotionBlock`). Defaults to None.

    Input ``(N*T, C, H, W)``; output that of ``net``.
    """

    def __init__(
        self,
        net: nn.Module,
        num_segments: int,
        shift_div: int = 8,
        spatial_div: Optional[int] = 16,
        init_cfg: Optional[dict] = None,
    ):
        if shift_div < 1:
            raise ValueError(f'shift_div must be >= 1, got {shift_div}')
        if spatial_div is not None and spatial_div < 1:
            raise ValueError(
                f'spatial_div must be >= 1 or None, got {spatial_div}'
            )
        super().__init__(net, num_segments=num_segments, shift_div=shift_div)
        # TemporalShift's constructor reached BaseModule's without it
        self.init_cfg = copy.deepcopy(init_cfg)
        self.spatial_div = spatial_div

    def default_init(self) -> None:
        """Nothing of its own to initialise (a shift); ``net`` keeps its
        weights."""

    def groups(self, channels: int) -> List[Tuple[int, Tuple[int, int, int]]]:
        """``(channels, (dt, dh, dw))`` per shifted group, in channel order."""
        fold = channels // self.shift_div
        groups = [(fold, (1, 0, 0)), (fold, (-1, 0, 0))]
        if self.spatial_div is not None:
            sfold = channels // self.spatial_div
            groups += [
                (sfold, (0, 1, 0)),
                (sfold, (0, -1, 0)),
                (sfold, (0, 0, 1)),
                (sfold, (0, 0, -1)),
            ]
        return groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = spatiotemporal_shift(x, self.num_segments, self.groups(x.shape[1]))
        return self.net(x)
