"""Retrieval metric of video person re-identification (MARS protocol).

Every test tracklet carries ``pid`` (identity), ``camid`` (camera) and
``is_query``. For each query, the gallery is ranked by distance; gallery
entries of the query's identity seen by the query's camera are removed as
junk (this removes the query itself when it is in the gallery), and so are
entries whose identity is in ``junk_pids`` (MARS: -1). Distractors (MARS
identity 0) stay in the gallery as negatives. The remaining entries of the
query's identity are its matches; a query without any is skipped (counted in
``num_skipped_queries``). Scores: mAP and CMC at the given ranks (percent).

MARS protocol facts (``liangzheng06/MARS-evaluation``, ``test_mars.m`` and
``utils/evaluation_mars.m``): the gallery is the whole test set, queries
included (``query_in_gallery=True``); junk = identity -1 plus same identity
and same camera. The MATLAB code averages precision with trapezoidal
interpolation (``ap_mode='trapezoid'``); torchreid-style Python evaluations
average the precision at each match (``ap_mode='step'``, the default, the
common reporting choice). Both give the same CMC.
"""

from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmaction.registry import METRICS
from mmengine.evaluator import BaseMetric


def pairwise_distance(
    query: torch.Tensor, gallery: torch.Tensor, metric: str = 'euclidean'
) -> torch.Tensor:
    """Distances ``(Q, G)`` between ``(Q, D)`` and ``(G, D)`` embeddings.

    ``'euclidean'``: L2 distance; ``'cosine'``: 1 - cosine similarity.
    """
    if metric == 'euclidean':
        return torch.cdist(query.double(), gallery.double())
    if metric == 'cosine':
        q = torch.nn.functional.normalize(query.double(), dim=1)
        g = torch.nn.functional.normalize(gallery.double(), dim=1)
        return 1 - q @ g.t()
    raise ValueError(
        f"distance must be 'euclidean' or 'cosine', got {metric!r}"
    )


def _average_precision(hits: np.ndarray, mode: str) -> float:
    """AP of a 0/1 ranking (junk already removed) with >= 1 hit."""
    num_good = hits.sum()
    cum_hits = np.cumsum(hits)
    precision = cum_hits / np.arange(1, len(hits) + 1)
    if mode == 'step':
        return float((precision * hits).sum() / num_good)
    # trapezoid: recall steps 1/num_good at each hit, precision averaged with
    # the previous position's (1 before the first position)
    previous = np.concatenate([[1.0], precision[:-1]])
    return float(((previous + precision) / 2 * hits).sum() / num_good)


def evaluate_rankings(
    dist: np.ndarray,
    query_pids: np.ndarray,
    query_camids: np.ndarray,
    gallery_pids: np.ndarray,
    gallery_camids: np.ndarray,
    ranks: Sequence[int] = (1, 5, 10, 20),
    junk_pids: Sequence[int] = (-1,),
    ap_mode: str = 'step',
) -> Dict[str, float]:
    """mAP and CMC (percent) of a ``(Q, G)`` distance matrix, MARS protocol.

    Ties are broken by gallery order (stable sort). Returns ``mAP``,
    ``rank{k}`` for ``k`` in ``ranks``, ``num_queries`` (evaluated) and
    ``num_skipped_queries`` (queries without a match).
    """
    if ap_mode not in ('step', 'trapezoid'):
        raise ValueError(
            f"ap_mode must be 'step' or 'trapezoid', got {ap_mode!r}"
        )
    if dist.shape != (len(query_pids), len(gallery_pids)):
        raise ValueError(
            f'distance matrix shape {dist.shape} does not match '
            f'{len(query_pids)} queries x {len(gallery_pids)} '
            f'gallery entries'
        )
    max_rank = max(ranks)
    junk_gallery = np.isin(gallery_pids, np.asarray(junk_pids))
    aps, cmc = [], []
    for q in range(len(query_pids)):
        order = np.argsort(dist[q], kind='stable')
        same_pid = gallery_pids[order] == query_pids[q]
        junk = (
            same_pid & (gallery_camids[order] == query_camids[q])
        ) | junk_gallery[order]
        hits = (same_pid & ~junk)[~junk].astype(np.float64)
        if not hits.any():
            continue
        aps.append(_average_precision(hits, ap_mode))
        first = int(np.argmax(hits))
        curve = np.zeros(max_rank)
        curve[first:] = 1  # beyond the first hit, CMC is 1
        cmc.append(curve)
    num_skipped = len(query_pids) - len(aps)
    if not aps:
        raise ValueError(
            f'none of the {len(query_pids)} queries has a '
            f'match in the gallery (another camera, not junk)'
        )
    cmc = np.mean(cmc, axis=0)
    results = dict(mAP=100 * float(np.mean(aps)))
    results.update({f'rank{k}': 100 * float(cmc[k - 1]) for k in ranks})
    results.update(num_queries=len(aps), num_skipped_queries=num_skipped)
    return results


@METRICS.register_module()
class ReIDMetric(BaseMetric):
    """mAP and CMC of re-identification, query against gallery.

    Each data sample must hold an ``embedding`` (``(D, )``, as set by
    :class:`~selfy_mmaction.models.VideoReID`) and the metainfo ``pid``,
    ``camid`` and ``is_query`` (packed by ``PackActionInputs`` with these
    ``meta_keys``).

    Args:
        distance (str): ``'euclidean'`` or ``'cosine'``. Defaults to
            ``'euclidean'``.
        ranks (tuple[int]): CMC ranks reported. Defaults to (1, 5, 10, 20).
        query_in_gallery (bool): The gallery is the whole test set, queries
            included (MARS); False: only the tracklets with ``is_query=0``.
            Defaults to True.
        junk_pids (tuple[int]): Identities ignored in the gallery.
            Defaults to (-1, ) (MARS junk).
        ap_mode (str): ``'step'`` (mean precision at the matches) or
            ``'trapezoid'`` (MARS MATLAB code). Defaults to ``'step'``.
        collect_device (str): Where results are gathered. Defaults to
            ``'cpu'``.
        prefix (str, optional): Prefix of the metric names. Defaults to
            ``'reid'``.
    """

    default_prefix: Optional[str] = 'reid'

    def __init__(
        self,
        distance: str = 'euclidean',
        ranks: Sequence[int] = (1, 5, 10, 20),
        query_in_gallery: bool = True,
        junk_pids: Sequence[int] = (-1,),
        ap_mode: str = 'step',
        collect_device: str = 'cpu',
        prefix: Optional[str] = None,
    ) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        pairwise_distance(torch.zeros(1, 1), torch.zeros(1, 1), distance)
        if ap_mode not in ('step', 'trapezoid'):
            raise ValueError(
                f"ap_mode must be 'step' or 'trapezoid', got {ap_mode!r}"
            )
        if not ranks or min(ranks) < 1:
            raise ValueError(f'ranks must be positive, got {ranks}')
        self.distance = distance
        self.ranks = tuple(ranks)
        self.query_in_gallery = query_in_gallery
        self.junk_pids = tuple(junk_pids)
        self.ap_mode = ap_mode

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            missing = [
                k
                for k in ('embedding', 'pid', 'camid', 'is_query')
                if k not in sample
            ]
            if missing:
                raise KeyError(
                    f'ReIDMetric needs {missing} in each data '
                    f'sample (the model sets embedding; '
                    f'PackActionInputs meta_keys must include '
                    f"'pid', 'camid', 'is_query'); got keys "
                    f'{sorted(sample)}'
                )
            self.results.append(
                dict(
                    embedding=sample['embedding'].detach().float().cpu(),
                    pid=int(sample['pid']),
                    camid=int(sample['camid']),
                    is_query=bool(sample['is_query']),
                )
            )

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        feats = torch.stack([r['embedding'] for r in results])
        pids = np.array([r['pid'] for r in results])
        camids = np.array([r['camid'] for r in results])
        is_query = np.array([r['is_query'] for r in results])
        if not is_query.any():
            raise ValueError('no test sample is a query (is_query=1)')
        in_gallery = (
            np.ones_like(is_query) if self.query_in_gallery else ~is_query
        )
        if not in_gallery.any():
            raise ValueError(
                'the gallery is empty (all samples are queries '
                'and query_in_gallery=False)'
            )
        dist = pairwise_distance(
            feats[torch.from_numpy(is_query)],
            feats[torch.from_numpy(in_gallery)],
            self.distance,
        ).numpy()
        return evaluate_rankings(
            dist,
            pids[is_query],
            camids[is_query],
            pids[in_gallery],
            camids[in_gallery],
            self.ranks,
            self.junk_pids,
            self.ap_mode,
        )
