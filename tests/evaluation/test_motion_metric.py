"""MotionPairMetric against a per-sample reference loop."""

import pytest
import torch
from mmaction.registry import METRICS
from mmaction.structures import ActionDataSample
from mmengine.evaluator import Evaluator

from selfy_mmaction.evaluation import MotionPairMetric, motion_pair_accuracy


def reference(scores, labels):
    """Plain loop: predicted class, its pair, and the true class against its
    time-reversed partner."""
    top1 = pair = direction = 0
    for row, label in zip(scores.tolist(), labels.tolist()):
        best = max(range(len(row)), key=lambda c: (row[c], -c))
        top1 += best == label
        pair += best // 2 == label // 2
        partner = label + 1 if label % 2 == 0 else label - 1
        direction += row[label] > row[partner]
    n = len(labels)
    return dict(top1=top1 / n, pair_acc=pair / n, direction_acc=direction / n)


def test_hand_example():
    # sample 0: right (class 0); sample 1: the reversed partner wins (pair
    # right, direction wrong); sample 2: another pair wins but the true
    # class beats its partner; sample 3: tie with the partner (not higher)
    scores = torch.tensor(
        [
            [0.9, 0.1, 0.0, 0.0],
            [0.2, 0.7, 0.1, 0.0],
            [0.1, 0.0, 0.6, 0.3],
            [0.0, 0.0, 0.5, 0.5],
        ]
    )
    labels = torch.tensor([0, 0, 0, 3])
    res = motion_pair_accuracy(scores, labels)
    assert res == dict(top1=0.25, pair_acc=0.75, direction_acc=0.5)


def test_random_scores_match_the_reference():
    gen = torch.Generator().manual_seed(0)
    scores = torch.randn(200, 8, generator=gen)
    labels = torch.randint(0, 8, (200,), generator=gen)
    res = motion_pair_accuracy(scores, labels)
    ref = reference(scores, labels)
    assert res == pytest.approx(ref, abs=1e-7)


def test_registered_metric_through_an_evaluator():
    gen = torch.Generator().manual_seed(1)
    scores = torch.randn(10, 8, generator=gen)
    labels = torch.randint(0, 8, (10,), generator=gen)
    evaluator = Evaluator(
        [
            METRICS.build(dict(type='MotionPairMetric')),
            METRICS.build(dict(type='AccMetric')),
        ]
    )
    samples = []
    for score, label in zip(scores, labels):
        sample = ActionDataSample().set_gt_label(label.view(1))
        sample.set_pred_score(score)
        samples.append(sample.to_dict())
    for start in (0, 4, 8):  # three batches
        evaluator.process(samples[start : start + 4])
    out = evaluator.evaluate(10)
    ref = reference(scores, labels)
    assert out['motion/top1'] == pytest.approx(ref['top1'])
    assert out['motion/pair_acc'] == pytest.approx(ref['pair_acc'])
    assert out['motion/direction_acc'] == pytest.approx(ref['direction_acc'])
    assert out['motion/top1'] == pytest.approx(out['acc/top1'])


def test_clear_errors():
    with pytest.raises(ValueError, match='C even'):
        motion_pair_accuracy(torch.zeros(2, 5), torch.zeros(2))
    with pytest.raises(ValueError, match='labels of shape'):
        motion_pair_accuracy(torch.zeros(2, 4), torch.zeros(3))
    with pytest.raises(ValueError, match='no predictions'):
        motion_pair_accuracy(torch.zeros(0, 4), torch.zeros(0))
    metric = MotionPairMetric()
    sample = ActionDataSample().set_gt_label(torch.tensor([1, 2]))
    sample.set_pred_score(torch.zeros(4))
    with pytest.raises(ValueError, match='single-label'):
        metric.process(None, [sample.to_dict()])
