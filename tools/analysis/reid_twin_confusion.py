"""Where a re-ID checkpoint's rank-1 goes on the generated tracklet set.

    python tools/analysis/reid_twin_confusion.py CONFIG CHECKPOINT

For every query, the nearest gallery entry that is not junk (MARS protocol:
not of the query's identity and camera) is classed as: a ``match`` (same
identity, another camera); the query's ``twin`` (the identity with the same
looks and another gait; see ``selfy_mmaction.datasets.tracklets``) in the
query's camera or in another camera; or ``other``. A model that ignores gait
confuses twins, so ``twin`` counts measure how much the gait is used.
"""

import argparse

import numpy as np
import torch
from mmengine.config import Config

import selfy_mmaction  # noqa: F401  (registers modules)
from selfy_mmaction.engine import build_runner
from selfy_mmaction.evaluation import pairwise_distance


def twin_of(pid: int, first_test_pid: int) -> int:
    """Twins are consecutive pids (first_test_pid, first_test_pid + 1) ..."""
    offset = pid - first_test_pid
    return pid + 1 if offset % 2 == 0 else pid - 1


def top1_classes(feats, pids, camids, is_query, distance='euclidean'):
    """Counts of the top-1 classes over the queries (see the docstring)."""
    first = int(pids.min())
    dist = pairwise_distance(
        feats[torch.from_numpy(is_query)], feats, distance
    ).numpy()
    counts = dict(match=0, twin_same_camera=0, twin_other_camera=0, other=0)
    for row, q in zip(dist, np.flatnonzero(is_query)):
        valid = ~((pids == pids[q]) & (camids == camids[q]))
        j = np.flatnonzero(valid)[np.argmin(row[valid])]
        if pids[j] == pids[q]:
            counts['match'] += 1
        elif pids[j] == twin_of(int(pids[q]), first):
            same = camids[j] == camids[q]
            counts['twin_same_camera' if same else 'twin_other_camera'] += 1
        else:
            counts['other'] += 1
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--work-dir', default='work_dirs/reid_twin_confusion')
    args = parser.parse_args()
    cfg = Config.fromfile(args.config)
    cfg.work_dir = args.work_dir
    cfg.load_from = args.checkpoint
    runner = build_runner(cfg)
    runner.load_or_resume()
    model = runner.model.eval()
    feats, pids, camids, is_query = [], [], [], []
    with torch.no_grad():
        for batch in runner.test_dataloader:
            for sample in model.test_step(batch):
                feats.append(sample.embedding.cpu())
                pids.append(sample.pid)
                camids.append(sample.camid)
                is_query.append(sample.is_query)
    counts = top1_classes(
        torch.stack(feats),
        np.array(pids),
        np.array(camids),
        np.array(is_query, bool),
        cfg.test_evaluator.get('distance', 'euclidean'),
    )
    total = sum(counts.values())
    for name, count in counts.items():
        print(f'{name}: {count} of {total} queries')


if __name__ == '__main__':
    main()
