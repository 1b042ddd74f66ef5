"""Batch-hard triplet loss (Hermans et al., "In Defense of the Triplet Loss
for Person Re-Identification", 2017)."""

from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS


@MODELS.register_module()
class BatchHardTripletLoss(nn.Module):
    """For each anchor, its farthest positive and nearest negative in the
    batch (Euclidean distances).

    Args:
        margin (float, optional): ``relu(d_ap - d_an + margin)``; None: the
            soft margin ``softplus(d_ap - d_an)``. Defaults to 0.3.
        loss_weight (float): Factor on the loss. Defaults to 1.0.

    Anchors without a negative in the batch are left out; a batch with a
    single identity gives 0 (with a graph, so ``backward`` works).
    """

    def __init__(
        self, margin: Optional[float] = 0.3, loss_weight: float = 1.0
    ) -> None:
        super().__init__()
        if margin is not None and margin < 0:
            raise ValueError(f'margin must be >= 0 or None, got {margin}')
        self.margin = margin
        self.loss_weight = loss_weight

    def forward(
        self, feats: torch.Tensor, labels: torch.Tensor
    ) -> torch.Tensor:
        """``feats`` ``(N, D)``, ``labels`` ``(N, )`` -> scalar loss."""
        if feats.dim() != 2 or labels.shape != feats.shape[:1]:
            raise ValueError(
                f'expected feats (N, D) and labels (N, ), got '
                f'{tuple(feats.shape)} and '
                f'{tuple(labels.shape)}'
            )
        sq = (feats * feats).sum(1)
        dist = (
            (sq[:, None] + sq[None] - 2 * feats @ feats.t())
            .clamp(min=1e-12)
            .sqrt()
        )
        same = labels[:, None] == labels[None]
        has_neg = (~same).any(1)
        if not has_neg.any():
            return feats.sum() * 0
        d_ap = dist.masked_fill(~same, float('-inf')).amax(1)[has_neg]
        d_an = dist.masked_fill(same, float('inf')).amin(1)[has_neg]
        if self.margin is None:
            loss = F.softplus(d_ap - d_an)
        else:
            loss = F.relu(d_ap - d_an + self.margin)
        return self.loss_weight * loss.mean()
