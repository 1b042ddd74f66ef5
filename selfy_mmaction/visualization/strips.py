"""Class strips of the generated datasets: one row per class, frames left
to right (``tools/visualize_motion_dataset.py`` for the motion dataset,
:func:`draw_suite_strip` for the motion suite)."""

import os
import os.path as osp
from typing import Sequence

import numpy as np


def save_strip(
    path: str, strip: np.ndarray, names: Sequence[str], scale: int = 2
):
    """Write ``strip``, ``(classes, frames, H, W, 3)`` uint8 RGB, as a PNG
    grid with the class names (``'<label>: <name>'``) on the left and the
    frame numbers on top, ``scale`` PNG pixels per video pixel."""
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


def draw_suite_strip(path: str, spec=None, scale: int = 2) -> np.ndarray:
    """Write the motion suite's class strip to ``path``: per class, all
    frames of its first clip of the train split (clip ``label`` of
    ``videos/train``, as generated from ``spec``, a ``MotionSuiteSpec``;
    default: the default spec).

    Returns:
        np.ndarray: The strip, ``(classes, T, H, W, 3)`` uint8 RGB.
    """
    from ..datasets.motion_suite import MotionSuiteSpec, suite_clip

    spec = spec or MotionSuiteSpec()
    strip = np.stack(
        [
            suite_clip(spec, 'train', label)[0][..., ::-1]  # BGR -> RGB
            for label in range(len(spec.classes))
        ]
    )
    save_strip(path, strip, spec.classes, scale)
    return strip
