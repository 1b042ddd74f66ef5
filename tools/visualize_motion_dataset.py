"""A PNG strip of the embedded motion dataset: one row per class, frames
left to right, rendered with the default ``MotionDatasetSpec``.

    python tools/visualize_motion_dataset.py [--out docs/motion_classes.png]
        [--frames 8] [--seed 0] [--scale 2]

The two rows of a time-reversal pair use the same random draw (object,
background, distractor, jitter, occluder), so the second row is the first
one read right to left: only the frame order tells the classes apart.
"""

import argparse
import os
import os.path as osp

import numpy as np

from selfy_mmaction.datasets.motion import (
    MOTION_CLASSES,
    MotionDatasetSpec,
    render_clip,
)


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


def save_strip(path: str, strip: np.ndarray, names, scale: int = 2):
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    n_cls, n_frames, h, w, _ = strip.shape
    gap = 2
    canvas = np.full(
        (n_cls * (h + gap), n_frames * (w + gap), 3), 255, np.uint8
    )
    for r in range(n_cls):
        for c in range(n_frames):
            canvas[
                r * (h + gap) : r * (h + gap) + h,
                c * (w + gap) : c * (w + gap) + w,
            ] = strip[r, c]
    dpi = 100
    label_w = 1.9  # inches for the class names
    fig_w = label_w + canvas.shape[1] * scale / dpi
    fig_h = canvas.shape[0] * scale / dpi + 0.3
    fig = plt.figure(figsize=(fig_w, fig_h), dpi=dpi)
    ax = fig.add_axes(
        [label_w / fig_w, 0, 1 - label_w / fig_w, 1 - 0.3 / fig_h]
    )
    ax.imshow(canvas, interpolation='nearest')
    ax.set_xticks([(w + gap) * c + w / 2 for c in range(n_frames)])
    ax.set_xticklabels([f't{c}' for c in range(n_frames)], fontsize=7)
    ax.xaxis.tick_top()
    ax.set_yticks([(h + gap) * r + h / 2 for r in range(n_cls)])
    ax.set_yticklabels(
        [f'{r}: {name}' for r, name in enumerate(names)], fontsize=9
    )
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    # a 256-colour palette keeps the committed PNG small
    from PIL import Image

    Image.open(path).convert('RGB').quantize(256).save(path, optimize=True)


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
