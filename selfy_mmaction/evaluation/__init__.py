"""Evaluation metrics (registered in MMAction2's METRICS)."""
from .reid_metric import ReIDMetric, evaluate_rankings, pairwise_distance

__all__ = ['ReIDMetric', 'evaluate_rankings', 'pairwise_distance']
