"""Evaluation metrics (registered in MMAction2's METRICS)."""

from .motion_metric import MotionPairMetric, motion_pair_accuracy
from .reid_metric import ReIDMetric, evaluate_rankings, pairwise_distance

__all__ = [
    'MotionPairMetric',
    'ReIDMetric',
    'evaluate_rankings',
    'motion_pair_accuracy',
    'pairwise_distance',
]
