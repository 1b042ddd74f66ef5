"""MotionSuiteMetric: accuracy by task, speed bin, direction and speed."""

import math

import pytest
import torch

from selfy_mmaction.evaluation import MotionSuiteMetric, suite_accuracy


def _onehot(predicted, num_classes=11):
    scores = torch.zeros(len(predicted), num_classes)
    scores[torch.arange(len(predicted)), torch.tensor(predicted)] = 1
    return scores


def test_accuracies_by_task_bin_direction_and_speed():
    # labels: right_slow(0), right_fast(1), up_fast(7), pass(8), push(10)
    labels = torch.tensor([0, 1, 7, 8, 10])
    # right_fast for right_slow (direction right, speed wrong), exact,
    # down_fast for up_fast (speed right, direction wrong), exact, bounce
    predicted = [1, 1, 5, 8, 9]
    bins = torch.tensor([0, 3, 3, 1, 1])
    out = suite_accuracy(_onehot(predicted), labels, bins, num_bins=4)
    assert out['top1'] == pytest.approx(2 / 5)
    assert out['translate_top1'] == pytest.approx(1 / 3)
    assert out['interact_top1'] == pytest.approx(1 / 2)
    assert out['direction_acc'] == pytest.approx(2 / 3)
    assert out['speed_acc'] == pytest.approx(2 / 3)
    assert out['speed0_top1'] == 0.0
    assert out['speed1_top1'] == pytest.approx(1 / 2)
    assert math.isnan(out['speed2_top1'])
    assert out['speed3_top1'] == pytest.approx(1 / 2)


def test_an_interaction_predicted_for_a_translation_has_no_direction():
    out = suite_accuracy(
        _onehot([8]), torch.tensor([0]), torch.tensor([0]), num_bins=1
    )
    assert out['direction_acc'] == 0.0 and out['speed_acc'] == 0.0


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match=r'C > 8.*\(3, 4\)'):
        suite_accuracy(
            torch.zeros(3, 4), torch.zeros(3), torch.zeros(3), num_bins=4
        )
    with pytest.raises(ValueError, match='speed bins of shape'):
        suite_accuracy(
            torch.zeros(3, 11), torch.zeros(3), torch.zeros(2), num_bins=4
        )
    with pytest.raises(ValueError, match='no predictions'):
        suite_accuracy(
            torch.zeros(0, 11), torch.zeros(0), torch.zeros(0), num_bins=4
        )


def test_metric_reads_speed_bin_from_the_samples():
    metric = MotionSuiteMetric(num_bins=2)
    samples = [
        dict(
            pred_score=_onehot([3])[0], gt_label=torch.tensor([3]), speed_bin=1
        ),
        dict(
            pred_score=_onehot([2])[0], gt_label=torch.tensor([3]), speed_bin=0
        ),
    ]
    metric.process({}, samples)
    out = metric.compute_metrics(metric.results)
    assert out['top1'] == 0.5
    assert out['speed0_top1'] == 0.0 and out['speed1_top1'] == 1.0
    with pytest.raises(KeyError, match="'speed_bin' to PackActionInputs"):
        metric.process(
            {}, [dict(pred_score=_onehot([1])[0], gt_label=torch.tensor([1]))]
        )
