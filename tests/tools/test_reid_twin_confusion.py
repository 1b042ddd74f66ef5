"""tools/analysis/reid_twin_confusion.py: top-1 classes by hand."""

import os.path as osp
import sys

import numpy as np
import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools', 'analysis'))
from reid_twin_confusion import top1_classes, twin_of  # noqa: E402


def test_twins_are_consecutive_pids():
    assert [twin_of(p, 49) for p in (49, 50, 51, 52)] == [50, 49, 52, 51]


def test_top1_classes():
    # pids 5/6 and 7/8 are twins; queries: rows 0-3
    pids = np.array([5, 6, 7, 8, 5, 6, 6, 8, 7])
    cams = np.array([1, 1, 1, 1, 1, 2, 1, 2, 2])
    is_query = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0], bool)
    pos = torch.tensor(
        [
            0.0,
            10.0,
            20.0,
            30.0,
            0.1,  # pid 5, query 0's camera: junk for query 0
            10.5,  # pid 6 cam 2: match of query 1 ...
            10.2,  # ... but pid 6 cam 1 is junk, so 10.5 wins
            20.4,  # pid 8 cam 2: twin of query 2 (7), other cam
            20.9,
        ]
    )  # pid 7 cam 2: farther than the twin
    feats = torch.stack([pos, torch.zeros(9)], 1)
    # query 0 (5, cam 1): nearest valid: 6 at 10 (query 1, cam 1) -> twin
    # same camera; query 1: match; query 2: twin other camera;
    # query 3 (8, cam 1 at 30): nearest valid: 7 at 20.9 -> twin other cam
    counts = top1_classes(feats, pids, cams, is_query)
    assert counts == dict(
        match=1, twin_same_camera=1, twin_other_camera=2, other=0
    )
