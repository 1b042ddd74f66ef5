"""Accuracy of the motion suite by task, speed bin, direction and speed.

The motion suite (:mod:`selfy_mmaction.datasets.motion_suite`) has 8
translation classes ``<direction>_<slow|fast>`` (labels 0-7, direction
``label // 2``, speed ``label % 2``) and 3 interaction classes (``pass``,
``bounce``, ``push``, labels 8-10). Each clip carries the mover's speed in
cells per frame and its bin (``speed_bin``) and its ``task``
(``'translate'`` or ``'interact'``) in its metainfo (``PackActionInputs``
``meta_keys``).
"""

from typing import Dict, List, Optional, Sequence

import torch
from mmaction.registry import METRICS
from mmengine.evaluator import BaseMetric

#: Labels below this are translations ``2 * direction + is_fast``.
NUM_TRANSLATION_CLASSES = 8


def suite_accuracy(
    scores: torch.Tensor,
    labels: torch.Tensor,
    speed_bins: torch.Tensor,
    num_bins: int,
) -> Dict[str, float]:
    """Accuracies (fractions) on the motion suite.

    Args:
        scores (Tensor): ``(N, C)`` class scores.
        labels (Tensor): ``(N,)`` true classes.
        speed_bins (Tensor): ``(N,)`` speed bin of each clip.
        num_bins (int): Number of speed bins.

    Returns:
        dict: ``top1``; ``translate_top1`` and ``interact_top1`` (top-1 on
        each task); ``direction_acc`` and ``speed_acc`` (translations: the
        predicted class is a translation with the true direction / with the
        true speed class); ``speed{k}_top1`` for every bin ``k`` that has
        clips (``nan`` where it has none).
    """
    if scores.dim() != 2 or scores.shape[1] <= NUM_TRANSLATION_CLASSES:
        raise ValueError(
            'motion suite metric: scores must be (N, C) with C > '
            f'{NUM_TRANSLATION_CLASSES}; got shape {tuple(scores.shape)}'
        )
    if labels.shape != scores.shape[:1] or speed_bins.shape != labels.shape:
        raise ValueError(
            f'motion suite metric: {scores.shape[0]} score rows, labels of '
            f'shape {tuple(labels.shape)}, speed bins of shape '
            f'{tuple(speed_bins.shape)}'
        )
    if len(labels) == 0:
        raise ValueError('motion suite metric: no predictions to evaluate')
    labels, predicted = labels.long(), scores.argmax(dim=1)
    correct = (predicted == labels).float()
    translate = labels < NUM_TRANSLATION_CLASSES
    pred_translate = predicted < NUM_TRANSLATION_CLASSES

    def mean(values: torch.Tensor, mask: torch.Tensor) -> float:
        return values[mask].mean().item() if mask.any() else float('nan')

    out = dict(
        top1=correct.mean().item(),
        translate_top1=mean(correct, translate),
        interact_top1=mean(correct, ~translate),
        direction_acc=mean(
            (pred_translate & (predicted // 2 == labels // 2)).float(),
            translate,
        ),
        speed_acc=mean(
            (pred_translate & (predicted % 2 == labels % 2)).float(),
            translate,
        ),
    )
    for k in range(num_bins):
        out[f'speed{k}_top1'] = mean(correct, speed_bins == k)
    return out


@METRICS.register_module()
class MotionSuiteMetric(BaseMetric):
    """Motion-suite accuracies (:func:`suite_accuracy`), logged as
    ``suite/<name>``; each sample's metainfo must hold ``speed_bin``.

    Args:
        num_bins (int): Number of speed bins. Defaults to 4 (the suite's
            ``SPEED_BINS``).
        collect_device (str): Device to gather results across ranks.
        prefix (str, optional): Prefix of the metric names (``'suite'``).
    """

    default_prefix: Optional[str] = 'suite'

    def __init__(
        self,
        num_bins: int = 4,
        collect_device: str = 'cpu',
        prefix: Optional[str] = None,
    ) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.num_bins = num_bins

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Keep each sample's ``(C,)`` scores, label and speed bin."""
        for sample in data_samples:
            if 'speed_bin' not in sample:
                raise KeyError(
                    'MotionSuiteMetric: the sample has no speed_bin; add '
                    "'speed_bin' to PackActionInputs' meta_keys and use "
                    'MotionSuiteDataset'
                )
            self.results.append(
                (
                    sample['pred_score'].detach().float().cpu(),
                    int(sample['gt_label']),
                    int(sample['speed_bin']),
                )
            )

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        scores = torch.stack([r[0] for r in results])
        labels = torch.tensor([r[1] for r in results])
        bins = torch.tensor([r[2] for r in results])
        return suite_accuracy(scores, labels, bins, self.num_bins)
