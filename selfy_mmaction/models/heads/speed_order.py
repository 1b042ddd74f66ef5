"""Head of the playback-speed pretext task (Cho et al., IEEE Access 2021).

The K clips of a sample (:class:`~selfy_mmaction.datasets.transforms.
PlaybackSpeedSampleFrames`) go through a shared 3D backbone; Recognizer3D
flattens them to ``N*K`` clips and does not tell the head K, so the head takes
``num_clips`` from its config. Clip features are concatenated pairwise (the
``K(K-1)/2`` pairs ``i < j``), each pair goes through a shared fc + ReLU, and
the concatenated pair features predict the order of the clips (K! classes),
as in VCOP (Xu et al., CVPR 2019).
"""

import itertools
import math
from typing import Optional

import torch
import torch.nn as nn
from mmaction.models.heads.base import BaseHead
from mmaction.registry import MODELS
from mmengine.model.weight_init import kaiming_init, normal_init

from ...ops.layout import check_segments


@MODELS.register_module()
class SpeedOrderHead(BaseHead):
    """Classify the order of K clips from their pairwise features.

    Args:
        in_channels (int): Backbone feature channels ``D``.
        num_clips (int): K. Defaults to 4.
        hidden_channels (int): Width of the pair fc. Defaults to 512.
        dropout_ratio (float): Dropout before the last fc. Defaults to 0.5.
        init_std (float): Std of the last fc's init (the pair fc gets
            Kaiming init, so the pair features keep their scale).
            Defaults to 0.01.
        num_classes (int, optional): Must be K! when given (the classes are
            the orders; see ``permutation_to_label``).
        **kwargs: ``BaseHead`` arguments (``loss_cls``, ``average_clips``,
            ``topk`` ...).

    Input ``(N*K, D, t, h, w)`` or ``(N*K, D)``; output ``(N, K!)``.
    """

    def __init__(
        self,
        in_channels: int,
        num_clips: int = 4,
        hidden_channels: int = 512,
        dropout_ratio: float = 0.5,
        init_std: float = 0.01,
        num_classes: Optional[int] = None,
        **kwargs,
    ):
        if num_clips < 2:
            raise ValueError(f'num_clips must be >= 2, got {num_clips}')
        orders = math.factorial(num_clips)
        if num_classes is not None and num_classes != orders:
            raise ValueError(
                f'num_classes must be num_clips! = {orders} '
                f'(the clip orders), got {num_classes}'
            )
        kwargs.setdefault('topk', (1, min(5, orders)))
        super().__init__(orders, in_channels, **kwargs)
        self.num_clips = num_clips
        self.init_std = init_std
        pairs = torch.tensor(list(itertools.combinations(range(num_clips), 2)))
        self.register_buffer('pairs', pairs, persistent=False)
        self.pool = nn.AdaptiveAvgPool3d(1)
        self.pair_fc = nn.Linear(2 * in_channels, hidden_channels)
        self.relu = nn.ReLU(inplace=True)
        self.dropout = (
            nn.Dropout(dropout_ratio) if dropout_ratio > 0 else nn.Identity()
        )
        self.fc_order = nn.Linear(len(pairs) * hidden_channels, orders)

    def init_weights(self):
        kaiming_init(self.pair_fc, mode='fan_in', bias=0)
        normal_init(self.fc_order, std=self.init_std, bias=0)

    def forward(self, x: torch.Tensor, **kwargs) -> torch.Tensor:
        """``(N*K, D, ...)`` -> ``(N, K!)`` order scores."""
        if x.dim() == 5:
            x = self.pool(x)
        x = x.flatten(1)
        if x.shape[1] != self.in_channels:
            raise ValueError(
                f'SpeedOrderHead expects {self.in_channels} '
                f'feature channels, got input shape '
                f'{tuple(x.shape)}'
            )
        n = check_segments(x, self.num_clips, 'SpeedOrderHead')
        clips = x.view(n, self.num_clips, self.in_channels)
        pairs = torch.cat(
            [clips[:, self.pairs[:, 0]], clips[:, self.pairs[:, 1]]], dim=2
        )
        pair_feats = self.relu(self.pair_fc(pairs))  # (N, P, hidden)
        return self.fc_order(self.dropout(pair_feats.flatten(1)))
