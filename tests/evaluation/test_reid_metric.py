"""ReIDMetric / evaluate_rankings against rankings worked out by hand."""

import numpy as np
import pytest
import torch

from selfy_mmaction.evaluation import (
    ReIDMetric,
    evaluate_rankings,
    pairwise_distance,
)

# Gallery of the hand example: (pid, camid, distance to query 0)
#   g0 pid 1 cam 1  0.1  junk (query 0's identity and camera)
#   g1 pid 2 cam 2  0.3  negative for query 0, the match of query 1
#   g2 pid 1 cam 2  0.4  match
#   g3 pid -1 cam 3 0.2  junk (MARS junk identity)
#   g4 pid 1 cam 3  0.6  match
#   g5 pid 0 cam 2  0.5  distractor: a negative
G_PIDS = np.array([1, 2, 1, -1, 1, 0])
G_CAMS = np.array([1, 2, 2, 3, 3, 2])
G_POS = np.array([0.1, 0.3, 0.4, 0.2, 0.6, 0.5])
# queries: (pid, camid, position on a line; distance = |difference|)
Q_PIDS = np.array([1, 2, 3])  # query 2 has no match anywhere: skipped
Q_CAMS = np.array([1, 1, 1])
Q_POS = np.array([0.0, 0.31, 5.0])


def hand_distances():
    return np.abs(Q_POS[:, None] - G_POS[None])


def test_hand_example_step_ap():
    # query 0 after junk removal: g1 (-), g2 (+), g5 (-), g4 (+)
    #   AP = (1/2 + 2/4) / 2 = 0.5; first match at rank 2
    # query 1: g1 first: AP 1, rank 1
    res = evaluate_rankings(hand_distances(), Q_PIDS, Q_CAMS, G_PIDS, G_CAMS)
    assert res['mAP'] == pytest.approx(75.0)
    assert res['rank1'] == pytest.approx(50.0)
    assert res['rank5'] == res['rank10'] == res['rank20'] == 100.0
    assert res['num_queries'] == 2 and res['num_skipped_queries'] == 1


def test_hand_example_trapezoid_ap():
    # query 0: precisions 0, 1/2, 1/3, 2/4 at ranks 1-4; matches at 2 and 4:
    #   AP = ((0 + 1/2) / 2 + (1/3 + 1/2) / 2) / 2 = 1/3; query 1: 1
    res = evaluate_rankings(
        hand_distances(), Q_PIDS, Q_CAMS, G_PIDS, G_CAMS, ap_mode='trapezoid'
    )
    assert res['mAP'] == pytest.approx(100 * (1 / 3 + 1) / 2)
    assert res['rank1'] == pytest.approx(50.0)


def test_ranks_and_no_junk():
    # without junk ids, g3 (pid -1) is a negative ranked 1st for query 0
    # (after g0, junk by camera): g3 -, g1 -, g2 + -> rank 3
    res = evaluate_rankings(
        hand_distances(),
        Q_PIDS,
        Q_CAMS,
        G_PIDS,
        G_CAMS,
        ranks=(1, 2, 3),
        junk_pids=(),
    )
    assert res['rank2'] == pytest.approx(50.0)
    assert res['rank3'] == pytest.approx(100.0)
    assert res['mAP'] == pytest.approx(100 * ((1 / 3 + 2 / 5) / 2 + 1) / 2)


def _samples(query_in_gallery_rows=True):
    rows = []
    for pid, cam, pos in zip(Q_PIDS, Q_CAMS, Q_POS):
        rows.append((pid, cam, pos, 1))
    for pid, cam, pos in zip(G_PIDS, G_CAMS, G_POS):
        rows.append((pid, cam, pos, 0))
    return [
        dict(
            embedding=torch.tensor([pos, 0.0]),
            pid=int(pid),
            camid=int(cam),
            is_query=bool(q),
        )
        for pid, cam, pos, q in rows
    ]


def _run(metric, samples, batch=3):
    for i in range(0, len(samples), batch):
        metric.process(None, samples[i : i + batch])
    return metric.evaluate(len(samples))


def test_metric_separate_gallery():
    res = _run(ReIDMetric(query_in_gallery=False), _samples())
    assert res['reid/mAP'] == pytest.approx(75.0)
    assert res['reid/rank1'] == pytest.approx(50.0)


def test_metric_queries_in_gallery_mars():
    # MARS: the queries are gallery entries too. Query 0 now also sees
    # query 1 (pid 2, at 0.31: a negative after g1) and query 2 (far):
    #   g1 -, q1 -, g2 +, g5 -, g4 + -> AP = (1/3 + 2/5) / 2; itself junk.
    # query 1: g1 first (itself junk: same identity and camera) -> AP 1
    res = _run(ReIDMetric(), _samples())
    assert res['reid/mAP'] == pytest.approx(
        100 * ((1 / 3 + 2 / 5) / 2 + 1) / 2
    )
    assert res['reid/rank1'] == pytest.approx(50.0)
    assert res['reid/num_skipped_queries'] == 1


def test_cosine_distance():
    q = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    g = torch.tensor([[2.0, 0.0], [0.0, 3.0], [-1.0, 0.0]])
    expected = torch.tensor(
        [[0.0, 1.0, 2.0], [1 - 2**-0.5, 1 - 2**-0.5, 1 + 2**-0.5]]
    )
    torch.testing.assert_close(
        pairwise_distance(q, g, 'cosine').float(), expected
    )
    torch.testing.assert_close(
        pairwise_distance(q, g).float(), torch.cdist(q, g)
    )


def test_errors():
    with pytest.raises(ValueError, match='distance'):
        ReIDMetric(distance='manhattan')
    with pytest.raises(ValueError, match='ap_mode'):
        ReIDMetric(ap_mode='interpolated')
    metric = ReIDMetric()
    with pytest.raises(KeyError, match="'camid'"):
        metric.process(
            None, [dict(embedding=torch.zeros(2), pid=1, is_query=True)]
        )
    no_match = [
        dict(embedding=torch.zeros(2), pid=1, camid=1, is_query=q)
        for q in (True, False)
    ]
    with pytest.raises(ValueError, match='none of the 1 queries'):
        _run(ReIDMetric(), no_match)
    with pytest.raises(ValueError, match='no test sample is a query'):
        _run(
            ReIDMetric(),
            [dict(embedding=torch.zeros(2), pid=1, camid=1, is_query=False)],
        )
