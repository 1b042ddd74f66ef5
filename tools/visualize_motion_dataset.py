"""A PNG strip of the embedded motion dataset: one row per class, frames
left to right, rendered with the default ``MotionDatasetSpec``.

    python tools/visualize_motion_dataset.py [--out docs/motion_classes.png]
        [--frames 8] [--seed 0] [--scale 2]

The two rows of a time-reversal pair use the same random draw (object,
background, distractor, jitter, occluder), so the second row is the first
one read right to left: only the frame order tells the classes apart.
"""

import argparse
import os.path as osp

import numpy as np

from selfy_mmaction.datasets.motion import (
    MOTION_CLASSES,
    MotionDatasetSpec,
    render_clip,
)
from selfy_mmaction.visualization.strips import save_strip


def class_strip(
    spec: MotionDatasetSpec, frames: int = 8, seed: int = 0
) -> np.ndarray:
    """``(classes, frames, H, W, 3)`` uint8 RGB: ``frames`` evenly spaced
    frames of one clip per class (pairs share their random draw)."""
    idx = np.linspace(0, spec.num_frames - 1, frames).round().astype(int)
    rows = []
    for label in range(len(spec.classes)):
        rng = np.random.default_rng([seed, label // 2])
        clip = render_clip(label, rng, spec)
        rows.append(clip[idx, :, :, ::-1])  # BGR -> RGB
    return np.stack(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='docs/motion_classes.png')
    parser.add_argument(
        '--frames',
        type=int,
        default=8,
        help='frames shown per clip (evenly spaced)',
    )
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--scale',
        type=int,
        default=2,
        help='pixels per video pixel in the PNG',
    )
    args = parser.parse_args(argv)
    spec = MotionDatasetSpec()
    save_strip(
        args.out,
        class_strip(spec, args.frames, args.seed),
        MOTION_CLASSES[: len(spec.classes)],
        args.scale,
    )
    print(f'wrote {args.out} ({osp.getsize(args.out) // 1024} KB)')


if __name__ == '__main__':
    main()
