"""The embedded motion dataset: small real videos whose classes need motion.

Classes come in time-reversal pairs (``2k`` and ``2k+1``): every clip of class
``2k+1`` is a clip of class ``2k`` played backwards, with the same random
appearance distribution. A model that ignores frame order (TSN's average over
segments) therefore cannot beat 50% within a pair; a motion model can.

Each clip draws a random object (shape, colour, size), a random textured
background, a random speed, and optional distractors (a second object moving
at random), camera jitter and a static occluder. Clips are written as mp4
(OpenCV ``mp4v``) with MMAction2 ``VideoDataset`` list files
(``<relative path> <label>``), deterministically from a seed.
"""

import math
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Tuple

import cv2
import numpy as np
from mmaction.registry import DATASETS
from mmengine.utils import ProgressBar

from .checked import CheckedVideoDataset
from .generated import generate_on_first_use, spec_is_current, write_spec

#: (forward, reversed) class names; label 2k = forward, 2k+1 = reversed.
MOTION_PAIRS: List[Tuple[str, str]] = [
    ('move_right', 'move_left'),
    ('move_down', 'move_up'),
    ('approach', 'recede'),
    ('rotate_clockwise', 'rotate_counterclockwise'),
]
MOTION_CLASSES: List[str] = [name for pair in MOTION_PAIRS for name in pair]


@dataclass
class MotionDatasetSpec:
    """Everything that determines the generated dataset.

    Args:
        seed (int): Master seed; the same spec gives the same files.
        num_train_per_class (int): Training clips per class.
        num_val_per_class (int): Validation clips per class.
        num_frames (int): Frames per clip.
        size (int): Frame height and width in pixels.
        fps (int): Frame rate written into the mp4.
        speed_range (tuple): Range of the motion's speed multiplier.
        rotation (float): Turns of the ``rotate_*`` classes over the clip
            at speed 1 (0.35: 126 degrees; 76-176 over ``speed_range``).
        rotation_arm (tuple): Range of the distance from the pivot to the
            object's centre, as a fraction of ``size``: the object turns
            rigidly about a point beside it, like a clock hand, so its far
            side sweeps an arc. (0, 0) spins it in place; at the benchmark's
            48 px neither TSM-R18 nor SELFY-TSM-R18 learned the direction of
            an in-place spin of a 7-11 px object (chance within the pair).
        num_distractors (int): Other objects moving in random directions.
        jitter (float): Camera jitter amplitude in pixels (0 disables it).
        occlusion_prob (float): Probability of a static occluding bar.
    """

    seed: int = 0
    num_train_per_class: int = 40
    num_val_per_class: int = 12
    num_frames: int = 16
    size: int = 64
    fps: int = 8
    speed_range: Tuple[float, float] = (0.6, 1.4)
    rotation: float = 0.35
    rotation_arm: Tuple[float, float] = (0.1, 0.16)
    num_distractors: int = 1
    jitter: float = 1.5
    occlusion_prob: float = 0.3
    classes: List[str] = field(default_factory=lambda: list(MOTION_CLASSES))


def _background(rng, size):
    """A smooth random texture: low-resolution noise, upsampled."""
    cells = rng.integers(3, 7)
    low = rng.integers(0, 256, size=(cells, cells, 3)).astype(np.uint8)
    tex = cv2.resize(low, (size, size), interpolation=cv2.INTER_CUBIC)
    dim = rng.uniform(0.35, 0.7)  # keep the background darker than objects
    return (tex.astype(np.float32) * dim).astype(np.uint8)


def _polygon(kind, centre, radius, angle):
    """Vertices of an asymmetric shape (rotation must be visible).

    ``kind``: ``'triangle'``, ``'arrow'``, ``'flag'`` or an ``(N, 2)`` array
    of vertices in units of ``radius`` (the motion suite's random shapes).
    """
    if not isinstance(kind, str):
        rel = kind
    elif kind == 'triangle':
        rel = [(0, -1.2), (0.8, 0.8), (-0.5, 0.8)]
    elif kind == 'arrow':
        rel = [
            (0, -1.2),
            (0.9, 0),
            (0.3, 0),
            (0.3, 1),
            (-0.3, 1),
            (-0.3, 0),
            (-0.9, 0),
        ]
    else:  # 'flag': a rectangle with a notch
        rel = [(-1, -1), (1, -1), (1, 0.2), (0, 1), (-1, 1)]
    c, s = math.cos(angle), math.sin(angle)
    pts = [
        (
            centre[0] + radius * (x * c - y * s),
            centre[1] + radius * (x * s + y * c),
        )
        for x, y in rel
    ]
    return np.round(np.array(pts) * 16).astype(np.int32)  # 4 fractional bits


def _draw(frame, kind, centre, radius, angle, colour):
    cv2.fillPoly(
        frame,
        [_polygon(kind, centre, radius, angle)],
        colour,
        lineType=cv2.LINE_AA,
        shift=4,
    )


def _forward_trajectory(motion, rng, spec):
    """Per-frame (centre, radius, angle) of the forward member of a pair."""
    n, size = spec.num_frames, spec.size
    speed = rng.uniform(*spec.speed_range)
    radius0 = rng.uniform(0.1, 0.16) * size
    t = np.arange(n) / max(n - 1, 1)
    angle0 = rng.uniform(0, 2 * math.pi)
    margin = 0.2 * size
    if motion in ('move_right', 'move_down'):
        travel = min(speed * 0.5 * size, size - 2 * margin)
        start = rng.uniform(margin, size - margin - travel)
        other = rng.uniform(margin, size - margin)
        along = start + travel * t
        centres = np.stack([along, np.full(n, other)], 1)
        if motion == 'move_down':
            centres = centres[:, ::-1]
        radii = np.full(n, radius0)
        angles = np.full(n, angle0)
    elif motion == 'approach':
        centres = np.tile(rng.uniform(0.35, 0.65, size=2) * size, (n, 1))
        growth = 1 + 1.2 * speed
        radii = radius0 * (0.7 + (growth - 1) * t)
        angles = np.full(n, angle0)
    else:  # rotate_clockwise (image y axis points down)
        pivot = rng.uniform(0.4, 0.6, size=2) * size
        arm = rng.uniform(*spec.rotation_arm) * size
        angles = angle0 + speed * spec.rotation * 2 * math.pi * t
        centres = pivot + arm * np.stack([np.cos(angles), np.sin(angles)], 1)
        radii = np.full(n, radius0)
    return centres, radii, angles


def render_clip(
    label: int, rng: np.random.Generator, spec: MotionDatasetSpec
) -> np.ndarray:
    """Render one clip of class ``label`` as ``(T, H, W, 3)`` uint8 (BGR)."""
    pair, reverse = divmod(label, 2)
    motion = MOTION_PAIRS[pair][0]
    n, size = spec.num_frames, spec.size
    bg = _background(rng, size)
    kind = rng.choice(['triangle', 'arrow', 'flag'])
    colour = tuple(int(c) for c in rng.integers(150, 256, size=3))
    centres, radii, angles = _forward_trajectory(motion, rng, spec)
    distractors = []
    for _ in range(spec.num_distractors):
        p0 = rng.uniform(0.15, 0.85, size=2) * size
        vel = rng.normal(0, 0.25 * size / n, size=2)
        distractors.append(
            (
                rng.choice(['triangle', 'arrow', 'flag']),
                tuple(int(c) for c in rng.integers(60, 200, 3)),
                p0,
                vel,
                rng.uniform(0.05, 0.09) * size,
                rng.uniform(0, 2 * math.pi),
            )
        )
    shake = (
        rng.normal(0, spec.jitter, size=(n, 2))
        if spec.jitter
        else np.zeros((n, 2))
    )
    occluder = None
    if rng.random() < spec.occlusion_prob:
        x0 = int(rng.uniform(0.2, 0.7) * size)
        occluder = (
            x0,
            int(x0 + rng.uniform(0.1, 0.18) * size),
            tuple(int(c) for c in rng.integers(0, 90, 3)),
        )
    frames = np.empty((n, size, size, 3), np.uint8)
    for i in range(n):
        frame = bg.copy()
        for d_kind, d_col, p0, vel, d_rad, d_ang in distractors:
            _draw(frame, d_kind, p0 + vel * i, d_rad, d_ang, d_col)
        _draw(frame, kind, centres[i], radii[i], angles[i], colour)
        if occluder is not None:
            frame[:, occluder[0] : occluder[1]] = occluder[2]
        m = np.float32([[1, 0, shake[i, 0]], [0, 1, shake[i, 1]]])
        frames[i] = cv2.warpAffine(
            frame, m, (size, size), borderMode=cv2.BORDER_REFLECT
        )
    return frames[::-1].copy() if reverse else frames


def write_video(path: str, frames: np.ndarray, fps: int):
    """Write ``(T, H, W, 3)`` BGR frames as an mp4 (``mp4v``)."""
    h, w = frames.shape[1:3]
    writer = cv2.VideoWriter(
        path, cv2.VideoWriter_fourcc(*'mp4v'), fps, (w, h)
    )
    if not writer.isOpened():
        raise RuntimeError(f'OpenCV cannot open a mp4v writer for {path}')
    for frame in frames:
        writer.write(frame)
    writer.release()


def _split_labels(num_per_class, num_classes):
    return [
        label for _ in range(num_per_class) for label in range(num_classes)
    ]


def generate_motion_dataset(
    root: str, spec: MotionDatasetSpec = None, force: bool = False
) -> Dict[str, str]:
    """Generate the dataset into ``root`` unless the same spec is there.

    Layout: ``root/videos/{train,val}/<split>_<index>.mp4``,
    ``root/motion_{train,val}_list_videos.txt``, ``root/classes.txt`` and
    ``root/spec.json``.

    Returns:
        dict: Paths of ``train_list``, ``val_list``, ``videos`` and
        ``classes``.
    """
    spec = spec or MotionDatasetSpec()
    paths = dict(
        videos=osp.join(root, 'videos'),
        train_list=osp.join(root, 'motion_train_list_videos.txt'),
        val_list=osp.join(root, 'motion_val_list_videos.txt'),
        classes=osp.join(root, 'classes.txt'),
    )
    if not force and spec_is_current(root, spec):
        return paths
    num_classes = len(spec.classes)
    if num_classes % 2 or num_classes > len(MOTION_CLASSES):
        raise ValueError(
            f'classes must be time-reversal pairs out of '
            f'{MOTION_CLASSES}, got {spec.classes}'
        )
    splits = dict(
        train=_split_labels(spec.num_train_per_class, num_classes),
        val=_split_labels(spec.num_val_per_class, num_classes),
    )
    total = sum(len(v) for v in splits.values())
    print(f'Generating the motion dataset ({total} clips) into {root}')
    bar = ProgressBar(total)
    for split_idx, (split, labels) in enumerate(splits.items()):
        os.makedirs(osp.join(paths['videos'], split), exist_ok=True)
        lines = []
        for i, label in enumerate(labels):
            rng = np.random.default_rng([spec.seed, split_idx, i])
            rel = f'{split}/{split}_{i:05d}.mp4'
            write_video(
                osp.join(paths['videos'], rel),
                render_clip(label, rng, spec),
                spec.fps,
            )
            lines.append(f'{rel} {label}\n')
            bar.update()
        with open(paths[f'{split}_list'], 'w') as f:
            f.writelines(lines)
    with open(paths['classes'], 'w') as f:
        f.writelines(f'{name}\n' for name in spec.classes)
    write_spec(root, spec)
    print()
    return paths


@DATASETS.register_module()
class MotionVideoDataset(CheckedVideoDataset):
    """``CheckedVideoDataset`` over the embedded motion dataset, generated on
    first use into the directory of ``ann_file`` (one process generates,
    others wait on a file lock).

    Args:
        spec (dict, optional): :class:`MotionDatasetSpec` fields.
        **kwargs: Arguments of ``CheckedVideoDataset`` (``skip_corrupt``)
            and MMAction2's ``VideoDataset``.
    """

    def __init__(self, ann_file: str, spec: dict = None, **kwargs):
        generate_on_first_use(
            ann_file,
            generate_motion_dataset,
            MotionDatasetSpec(**(spec or {})),
        )
        super().__init__(ann_file, **kwargs)
