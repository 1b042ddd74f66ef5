"""Evaluation metrics (registered in MMAction2's METRICS)."""

from .motion_metric import MotionPairMetric, motion_pair_accuracy
from .reid_metric import ReIDMetric, evaluate_rankings, pairwise_distance
from .suite_metric import MotionSuiteMetric, suite_accuracy

__all__ = [
    'MotionPairMetric',
    'MotionSuiteMetric',
    'ReIDMetric',
    'evaluate_rankings',
    'motion_pair_accuracy',
    'pairwise_distance',
    'suite_accuracy',
]
