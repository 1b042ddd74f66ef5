"""Accuracy within the time-reversal pairs of the motion dataset.

The motion dataset (:mod:`selfy_mmaction.datasets.motion`) has its classes in
time-reversal pairs: label ``2k`` is a motion, ``2k + 1`` the same motion
played backwards. Beside top-1 this metric reports

* pair accuracy: the predicted class is in the true pair (chance 25% with 8
  classes): the model saw what moves;
* direction accuracy: of the two classes of the true pair, the true one
  scores higher (chance 50%): the model saw which way it moves. A
  frame-order-invariant model (TSN) cannot beat 50% here.
"""

from typing import Dict, Optional, Sequence

import torch
from mmaction.registry import METRICS
from mmengine.evaluator import BaseMetric


def motion_pair_accuracy(
    scores: torch.Tensor, labels: torch.Tensor
) -> Dict[str, float]:
    """Top-1, pair and direction accuracy (fractions).

    Args:
        scores (Tensor): ``(N, C)`` class scores, ``C`` even (pairs
            ``(2k, 2k + 1)``).
        labels (Tensor): ``(N,)`` true class indices.

    Returns:
        dict: ``top1``, ``pair_acc``, ``direction_acc``.
    """
    if scores.dim() != 2 or scores.shape[1] % 2:
        raise ValueError(
            'motion pair metric: scores must be (N, C) with C '
            'even (classes in pairs 2k, 2k+1); got shape '
            f'{tuple(scores.shape)}'
        )
    if labels.shape != scores.shape[:1]:
        raise ValueError(
            f'motion pair metric: {scores.shape[0]} score rows '
            f'but labels of shape {tuple(labels.shape)}'
        )
    if len(labels) == 0:
        raise ValueError('motion pair metric: no predictions to evaluate')
    labels = labels.long()
    predicted = scores.argmax(dim=1)
    rows = torch.arange(len(labels))
    own = scores[rows, labels]
    partner = scores[rows, labels ^ 1]
    return dict(
        top1=(predicted == labels).float().mean().item(),
        pair_acc=(predicted // 2 == labels // 2).float().mean().item(),
        direction_acc=(own > partner).float().mean().item(),
    )


@METRICS.register_module()
class MotionPairMetric(BaseMetric):
    """Top-1, pair and direction accuracy on the motion dataset (see the
    module docstring); logged as ``motion/top1``, ``motion/pair_acc`` and
    ``motion/direction_acc`` (fractions), next to ``AccMetric``'s.

    Args:
        collect_device (str): Device to gather results across ranks.
            Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the metric names. Defaults to
            ``'motion'``.
    """

    default_prefix: Optional[str] = 'motion'

    def __init__(
        self, collect_device: str = 'cpu', prefix: Optional[str] = None
    ) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Keep each sample's ``(C,)`` scores and its label."""
        for sample in data_samples:
            label = sample['gt_label']
            if label.numel() != 1:
                raise ValueError(
                    'MotionPairMetric takes single-label '
                    f'samples; got gt_label {label.tolist()}'
                )
            self.results.append(
                (sample['pred_score'].detach().float().cpu(), int(label))
            )

    def compute_metrics(self, results: list) -> Dict[str, float]:
        scores = torch.stack([score for score, _ in results])
        labels = torch.tensor([label for _, label in results])
        return motion_pair_accuracy(scores, labels)
