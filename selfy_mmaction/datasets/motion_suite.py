"""The motion suite: a harder generated video dataset for studying motion
models (speed, direction relative to a moving background, long-range
interactions, nuisances, held-out appearance).

11 classes: 8 translations ``<right|left|down|up>_<slow|fast>`` (label
``2 * direction + is_fast``) and 3 interactions of two objects (``pass``,
``bounce``, ``push``) that look the same up to their contact in frames 2-5
and differ only after it. Speeds are in *cells* per frame, a cell being
``size / 16`` px (the map cell of a 64 px frame after ResNet's ``layer1``).

Nuisances: a textured background larger than the frame that pans at a
constant random velocity (labels are motion relative to the background), 0-2
slow distractors and a moving occluding bar. The test split draws its shapes,
textures, colours and speeds from its own generator seed (``test_seed``), so
its shapes are never training shapes.

Clips are written as mp4 (:func:`~.motion.write_video`) with MMAction2
``VideoDataset`` list files and a JSON meta file per split (speed, task,
nuisances of every clip), deterministically from the spec.
"""

import colorsys
import json
import math
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np
from mmaction.registry import DATASETS
from mmengine.utils import ProgressBar

from .checked import (
    AnnotationError,
    CheckedVideoDataset,
    DatasetNotPreparedError,
)
from .generated import generate_on_first_use, spec_is_current, write_spec
from .motion import _background, _draw, _polygon, _split_labels, write_video

SUITE_CLASSES: List[str] = [
    'right_slow',
    'right_fast',
    'left_slow',
    'left_fast',
    'down_slow',
    'down_fast',
    'up_slow',
    'up_fast',
    'pass',
    'bounce',
    'push',
]
#: speed bins in cells per frame (a cell = size / 16 px, the block's map cell
#: at 64 px after ResNet layer1)
SPEED_BINS: List[Tuple[float, float]] = [
    (0.0, 1.0),
    (1.0, 2.0),
    (2.0, 3.0),
    (3.0, 4.5),
]
#: Unit (x, y) screen directions of the translation classes (y points down).
DIRECTIONS: Dict[str, Tuple[int, int]] = dict(
    right=(1, 0), left=(-1, 0), down=(0, 1), up=(0, -1)
)
INTERACTIONS = ('pass', 'bounce', 'push')
#: Shapes in a split's bank, and the stream that draws them from its seed.
NUM_SHAPES = 12
_SHAPE_STREAM = 0x5348415045  # 'SHAPE'
SPLITS = ('train', 'test')


@dataclass
class MotionSuiteSpec:
    """Everything that determines the generated suite.

    Args:
        seed (int): Master seed of the train split (and its shape bank).
        test_seed (int): Generator seed of the held-out test split (its own
            shapes, textures, colours and speeds); must differ from ``seed``.
        num_train_per_class (int): Training clips per class.
        num_test_per_class (int): Test clips per class.
        num_frames (int): Frames per clip.
        size (int): Frame height and width in pixels; a cell is
            ``size / 16`` px.
        fps (int): Frame rate written into the mp4.
        slow_speed (tuple): Range of the ``*_slow`` speeds, cells/frame.
        fast_speed (tuple): Range of the ``*_fast`` speeds, cells/frame.
        interaction_speed (tuple): Range of the mover's speed in the
            interactions, cells/frame.
        num_distractors (tuple): Inclusive range of the distractor count,
            drawn per clip.
        pan_speed (float): Largest background pan, cells/frame.
        occluder_prob (float): Probability of a moving occluding bar.
        classes (list): Class names out of :data:`SUITE_CLASSES`; label
            ``i`` is ``classes[i]``.
    """

    seed: int = 0
    test_seed: int = 1000
    num_train_per_class: int = 60
    num_test_per_class: int = 20
    num_frames: int = 8
    size: int = 64
    fps: int = 8
    slow_speed: Tuple[float, float] = (0.25, 1.25)
    fast_speed: Tuple[float, float] = (2.0, 4.0)
    interaction_speed: Tuple[float, float] = (0.5, 3.0)
    num_distractors: Tuple[int, int] = (0, 2)
    pan_speed: float = 0.5
    occluder_prob: float = 0.5
    classes: List[str] = field(default_factory=lambda: list(SUITE_CLASSES))


def _check_spec(spec: MotionSuiteSpec):
    unknown = [name for name in spec.classes if name not in SUITE_CLASSES]
    if (
        not spec.classes
        or unknown
        or len(set(spec.classes)) != len(spec.classes)
    ):
        raise ValueError(
            f'classes must be distinct names out of {SUITE_CLASSES}, '
            f'got {spec.classes}'
        )
    if spec.seed == spec.test_seed:
        raise ValueError(
            f'test_seed must differ from seed (both {spec.seed}): the test '
            f'split would reuse the training shapes'
        )
    if spec.num_frames < 4 or spec.size < 16:
        raise ValueError(
            f'need num_frames >= 4 and size >= 16, got {spec.num_frames} '
            f'and {spec.size}'
        )


def speed_bin(speed: float) -> int:
    """Index of the :data:`SPEED_BINS` bin holding ``speed`` (cells/frame);
    speeds past the last bin go to the last bin."""
    for k, (_, hi) in enumerate(SPEED_BINS):
        if speed < hi:
            return k
    return len(SPEED_BINS) - 1


def suite_shapes(seed: int, count: int = NUM_SHAPES) -> List[np.ndarray]:
    """The shape bank of a split seed: ``count`` random polygons, each an
    ``(N, 2)`` array of vertices (N in 5..8) in units of the object radius
    (RMS vertex distance 1), asymmetric through radius and angle jitter."""
    rng = np.random.default_rng([seed, _SHAPE_STREAM])
    bank = []
    for _ in range(count):
        k = int(rng.integers(5, 9))
        angles = (np.arange(k) + rng.uniform(-0.3, 0.3, k)) * 2 * math.pi / k
        radii = rng.uniform(0.55, 1.2, k)
        pts = radii[:, None] * np.stack([np.cos(angles), np.sin(angles)], 1)
        pts -= pts.mean(0)
        bank.append(pts / np.sqrt((pts**2).sum(1).mean()))
    return bank


def _colour(rng, value=(0.8, 1.0), saturation=(0.5, 1.0), hue=None):
    """A random BGR colour (ints) from HSV ranges."""
    hue = rng.uniform(0, 1) if hue is None else hue % 1.0
    rgb = colorsys.hsv_to_rgb(
        hue, rng.uniform(*saturation), rng.uniform(*value)
    )
    return tuple(int(round(255 * c)) for c in rgb[::-1])


def _texture(rng, size: int, cell: float) -> np.ndarray:
    """``(size, size, 3)`` uint8: :func:`~.motion._background` noise, with
    random stripes (period 1.5-4 cells) over half of them."""
    tex = _background(rng, size)
    if rng.random() < 0.5:
        theta = rng.uniform(0, math.pi)
        period = rng.uniform(1.5, 4.0) * cell
        y, x = np.mgrid[:size, :size].astype(np.float32)
        phase = (x * math.cos(theta) + y * math.sin(theta)) / period
        mask = (np.sin(2 * math.pi * phase + rng.uniform(0, 2 * math.pi)) > 0)[
            ..., None
        ]
        alpha = rng.uniform(0.3, 0.6)
        colour = rng.integers(0, 140, 3).astype(np.float32)
        tex = np.where(mask, (1 - alpha) * tex + alpha * colour, tex)
    return tex.astype(np.uint8)


def _translate_track(
    velocity: np.ndarray, rng: np.random.Generator, spec: MotionSuiteSpec
) -> np.ndarray:
    """``(T, 2)`` screen centres (x, y) in px of an object moving at the
    screen ``velocity`` (px/frame). Per axis, the path stays within the
    middle 60% of the frame if it fits there, else the middle of the path
    is within one cell of the frame centre (a fast object crosses it)."""
    n, size = spec.num_frames, spec.size
    cell = size / 16
    mid = np.empty(2)
    for axis in range(2):
        half = abs(velocity[axis]) * (n - 1) / 2
        lo, hi = 0.2 * size + half, 0.8 * size - half
        if lo < hi:
            mid[axis] = rng.uniform(lo, hi)
        else:
            mid[axis] = size / 2 + rng.uniform(-1, 1) * cell
    t = np.arange(n) - (n - 1) / 2
    return mid + t[:, None] * velocity


def _interaction_tracks(
    kind: str,
    rng: np.random.Generator,
    spec: MotionSuiteSpec,
    outlines: Sequence[np.ndarray],
) -> dict:
    """Background-relative centres of the two objects of an interaction.

    The draws do not depend on ``kind``: the same generator state gives the
    same positions for ``'pass'``, ``'bounce'`` and ``'push'`` up to the
    contact frame. Object A (the mover) moves at ``speed`` toward B; B moves
    toward A at 0 (still, half of the clips) or 0.4-1 times A's speed. At
    the contact frame A's leading edge touches B's; after it ``'pass'``
    continues both motions (through each other), ``'bounce'`` reverses both
    and ``'push'`` moves both with A's velocity.

    Args:
        kind (str): ``'pass'``, ``'bounce'`` or ``'push'``.
        rng (np.random.Generator): The clip's generator.
        spec (MotionSuiteSpec): Frames, size and ``interaction_speed``.
        outlines (Sequence[np.ndarray]): ``(N, 2)`` vertex offsets (px, as
            drawn) of A and B, for the contact distance.

    Returns:
        dict: ``centres`` ``(2, T, 2)`` px (A, B; x, y), ``contact`` (frame
        index, within the middle third, at least 1 and at most T-2),
        ``speed`` (A's, cells/frame), ``axis`` (0: horizontal line, 1:
        vertical), ``sign`` (A's direction along the axis).
    """
    if kind not in INTERACTIONS:
        raise ValueError(f'kind must be one of {INTERACTIONS}, got {kind!r}')
    n, size = spec.num_frames, spec.size
    cell = size / 16
    axis = int(rng.integers(2))
    sign = float(rng.choice([-1.0, 1.0]))
    speed = float(rng.uniform(*spec.interaction_speed))
    ratio = 0.0 if rng.random() < 0.5 else rng.uniform(0.4, 1.0)
    lo = max(1, round((n - 1) / 3))
    hi = min(n - 2, round(2 * (n - 1) / 3))
    contact = int(rng.integers(lo, hi + 1))
    meet = size / 2 + rng.uniform(-1, 1) * cell  # the contact point
    across = size / 2 + rng.uniform(-0.2, 0.2) * size
    reach_a = float(np.max(sign * outlines[0][:, axis]))
    reach_b = float(np.max(-sign * outlines[1][:, axis]))
    v_a, v_b = sign * speed * cell, -sign * ratio * speed * cell
    at_a, at_b = meet - sign * reach_a, meet + sign * reach_b
    dt = np.arange(n, dtype=np.float64) - contact
    after = np.maximum(dt, 0)
    before = np.minimum(dt, 0)
    if kind == 'pass':
        after_a, after_b = v_a * after, v_b * after
    elif kind == 'bounce':
        after_a, after_b = -v_a * after, -v_b * after
    else:  # push
        after_a, after_b = v_a * after, v_a * after
    along = np.stack(
        [at_a + v_a * before + after_a, at_b + v_b * before + after_b]
    )
    centres = np.empty((2, n, 2))
    centres[..., axis] = along
    centres[..., 1 - axis] = across
    return dict(
        centres=centres, contact=contact, speed=speed, axis=axis, sign=sign
    )


def render_suite_clip(
    label: int, rng: np.random.Generator, spec: MotionSuiteSpec, shapes
) -> Tuple[np.ndarray, dict]:
    """Render one clip of class ``spec.classes[label]``.

    Args:
        label (int): Class index into ``spec.classes``.
        rng (np.random.Generator): The clip's generator (all draws).
        spec (MotionSuiteSpec): The suite's spec.
        shapes (list): The split's shape bank (:func:`suite_shapes`).

    Returns:
        tuple: ``(T, H, W, 3)`` uint8 BGR frames and the annotation dict:
        ``label``, ``speed`` (cells/frame, relative to the background; the
        mover's for interactions), ``task`` (``'translate'`` or
        ``'interact'``), ``num_distractors``, ``pan`` (``[x, y]`` screen
        velocity of the background, cells/frame) and ``occluder`` (bool).
    """
    name = spec.classes[label]
    n, size = spec.num_frames, spec.size
    cell = size / 16
    frame_idx = np.arange(n)[:, None]
    # background: larger than the frame, panning at a constant velocity
    pan_angle = rng.uniform(0, 2 * math.pi)
    pan = rng.uniform(0, spec.pan_speed) * np.array(
        [math.cos(pan_angle), math.sin(pan_angle)]
    )
    margin = int(math.ceil(spec.pan_speed * cell * (n - 1))) + 2
    tex = _texture(rng, size + 2 * margin, cell)
    # main objects: (shape, radius, angle, colour, (T, 2) screen centres)
    if name in INTERACTIONS:
        task = 'interact'
        picks = rng.choice(len(shapes), 2, replace=False)
        radii = rng.uniform(0.1, 0.14, 2) * size
        angles = rng.uniform(0, 2 * math.pi, 2)
        hue = rng.uniform(0, 1)
        colours = [
            _colour(rng, hue=hue),
            _colour(rng, hue=hue + rng.uniform(0.25, 0.75)),
        ]
        outlines = [
            _polygon(shapes[p], (0, 0), r, a) / 16.0
            for p, r, a in zip(picks, radii, angles)
        ]
        tracks = _interaction_tracks(name, rng, spec, outlines)
        speed = tracks['speed']
        objects = [
            (
                shapes[picks[j]],
                radii[j],
                angles[j],
                colours[j],
                tracks['centres'][j],
            )
            for j in rng.permutation(2)  # the last one is drawn on top
        ]
    else:
        task = 'translate'
        direction, pace = name.split('_')
        speed = float(
            rng.uniform(
                *(spec.fast_speed if pace == 'fast' else spec.slow_speed)
            )
        )
        shape = shapes[rng.integers(len(shapes))]
        radius = rng.uniform(0.1, 0.14) * size
        angle = rng.uniform(0, 2 * math.pi)
        own = speed * cell * np.array(DIRECTIONS[direction], np.float64)
        centres = (
            _translate_track(own + pan * cell, rng, spec)
            - frame_idx * pan * cell
        )
        objects = [(shape, radius, angle, _colour(rng), centres)]
    # distractors: smaller, duller, at most 1 cell/frame
    distractors = []
    for _ in range(
        int(rng.integers(spec.num_distractors[0], spec.num_distractors[1] + 1))
    ):
        d_angle = rng.uniform(0, 2 * math.pi)
        own = (
            rng.uniform(0, 1)
            * cell
            * np.array([math.cos(d_angle), math.sin(d_angle)])
        )
        distractors.append(
            (
                shapes[rng.integers(len(shapes))],
                rng.uniform(0.05, 0.08) * size,
                rng.uniform(0, 2 * math.pi),
                _colour(rng, value=(0.45, 0.75), saturation=(0.3, 0.8)),
                rng.uniform(0.1, 0.9, 2) * size + frame_idx * own,
            )
        )
    # occluder: a dark bar crossing the frame, on top of everything
    occluder = None
    if rng.random() < spec.occluder_prob:
        vertical = bool(rng.integers(2))
        thick = rng.uniform(0.1, 0.2) * size
        pos = rng.uniform(0.3, 0.7) * size + rng.choice(
            [-1.0, 1.0]
        ) * rng.uniform(0.5, 2.0) * cell * (np.arange(n) - (n - 1) / 2)
        occluder = (
            vertical,
            thick,
            pos,
            tuple(int(c) for c in rng.integers(0, 70, 3)),
        )
    frames = np.empty((n, size, size, 3), np.uint8)
    for i in range(n):
        shift = margin - pan * cell * i  # texture pixel at screen (0, 0)
        m = np.float32([[1, 0, shift[0]], [0, 1, shift[1]]])
        frame = cv2.warpAffine(
            tex, m, (size, size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        )
        # object paths are background-relative: add the pan on screen
        for shape, radius, angle, colour, centres in distractors + objects:
            _draw(
                frame,
                shape,
                centres[i] + pan * cell * i,
                radius,
                angle,
                colour,
            )
        if occluder is not None:
            vertical, thick, pos, colour = occluder
            a = int(np.clip(round(pos[i] - thick / 2), 0, size))
            b = int(np.clip(round(pos[i] + thick / 2), 0, size))
            if vertical:
                frame[:, a:b] = colour
            else:
                frame[a:b] = colour
        frames[i] = frame
    ann = dict(
        label=int(label),
        speed=float(speed),
        task=task,
        num_distractors=len(distractors),
        pan=[float(pan[0]), float(pan[1])],
        occluder=occluder is not None,
    )
    return frames, ann


def suite_clip(
    spec: MotionSuiteSpec, split: str, index: int
) -> Tuple[np.ndarray, dict]:
    """Clip ``index`` of ``split`` (``'train'`` or ``'test'``) exactly as
    :func:`generate_motion_suite` writes it: ``(T, H, W, 3)`` BGR frames and
    its annotation. Split ``s`` uses the seed ``seed``/``test_seed`` for its
    shape bank and the clip generator ``default_rng([seed, s, index])``."""
    split_idx = SPLITS.index(split)
    seed = spec.test_seed if split == 'test' else spec.seed
    count = (
        spec.num_test_per_class
        if split == 'test'
        else spec.num_train_per_class
    )
    label = _split_labels(count, len(spec.classes))[index]
    rng = np.random.default_rng([seed, split_idx, index])
    return render_suite_clip(label, rng, spec, suite_shapes(seed))


def _write_meta(path: str, anns: List[dict]):
    """A JSON list, one annotation dict a line (same order as the list)."""
    with open(path, 'w') as f:
        f.write(
            '[\n'
            + ',\n'.join(json.dumps(a, sort_keys=True) for a in anns)
            + '\n]\n'
        )


def generate_motion_suite(
    root: str, spec: MotionSuiteSpec = None, force: bool = False
) -> Dict[str, str]:
    """Generate the suite into ``root`` unless the same spec is there.

    Layout: ``root/videos/{train,test}/<split>_<index>.mp4``,
    ``root/suite_{train,test}_list_videos.txt`` (``<rel path> <label>``
    lines, MMAction2 ``VideoDataset`` format), ``root/suite_{train,test}_
    meta.json`` (a list: the annotation dict of each list line, same order,
    with ``filename``), ``root/classes.txt`` and ``root/spec.json``.

    Returns:
        dict: Paths of ``videos``, ``train_list``, ``test_list``,
        ``train_meta``, ``test_meta`` and ``classes``.
    """
    spec = spec or MotionSuiteSpec()
    _check_spec(spec)
    paths = dict(videos=osp.join(root, 'videos'))
    for split in SPLITS:
        paths[f'{split}_list'] = osp.join(
            root, f'suite_{split}_list_videos.txt'
        )
        paths[f'{split}_meta'] = osp.join(root, f'suite_{split}_meta.json')
    paths['classes'] = osp.join(root, 'classes.txt')
    if not force and spec_is_current(root, spec):
        return paths
    num_classes = len(spec.classes)
    counts = dict(train=spec.num_train_per_class, test=spec.num_test_per_class)
    total = num_classes * sum(counts.values())
    print(f'Generating the motion suite ({total} clips) into {root}')
    bar = ProgressBar(total)
    for split in SPLITS:
        os.makedirs(osp.join(paths['videos'], split), exist_ok=True)
        lines, anns = [], []
        for i in range(counts[split] * num_classes):
            frames, ann = suite_clip(spec, split, i)
            rel = f'{split}/{split}_{i:05d}.mp4'
            write_video(osp.join(paths['videos'], rel), frames, spec.fps)
            lines.append(f'{rel} {ann["label"]}\n')
            anns.append(dict(ann, filename=rel))
            bar.update()
        with open(paths[f'{split}_list'], 'w') as f:
            f.writelines(lines)
        _write_meta(paths[f'{split}_meta'], anns)
    with open(paths['classes'], 'w') as f:
        f.writelines(f'{name}\n' for name in spec.classes)
    write_spec(root, spec)
    print()
    return paths


def meta_file(ann_file: str) -> str:
    """The meta file of a list file: ``<x>_list_videos.txt`` ->
    ``<x>_meta.json`` (otherwise ``<x>.txt`` -> ``<x>_meta.json``)."""
    suffix = '_list_videos.txt'
    if ann_file.endswith(suffix):
        return ann_file[: -len(suffix)] + '_meta.json'
    return osp.splitext(ann_file)[0] + '_meta.json'


@DATASETS.register_module()
class MotionSuiteDataset(CheckedVideoDataset):
    """``CheckedVideoDataset`` over the motion suite, generated on first use
    into the directory of ``ann_file`` (one process generates, others wait
    on a file lock). Each sample also carries ``speed`` (cells/frame),
    ``speed_bin`` (index into :data:`SPEED_BINS`) and ``task`` from the
    split's meta file (:func:`meta_file`).

    Args:
        spec (dict, optional): :class:`MotionSuiteSpec` fields.
        **kwargs: Arguments of ``CheckedVideoDataset`` and MMAction2's
            ``VideoDataset``; ``data_prefix`` defaults to
            ``dict(video=<root>/videos)``.
    """

    def __init__(self, ann_file: str, spec: dict = None, **kwargs):
        root = generate_on_first_use(
            ann_file, generate_motion_suite, MotionSuiteSpec(**(spec or {}))
        )
        kwargs.setdefault('data_prefix', dict(video=osp.join(root, 'videos')))
        super().__init__(ann_file, **kwargs)

    def load_data_list(self) -> List[dict]:
        data_list = super().load_data_list()
        path = meta_file(self.ann_file)
        if not osp.isfile(path):
            raise DatasetNotPreparedError(
                f'meta file {path} of {self.ann_file} does not exist\n'
                f'  expected: a JSON list, one annotation (filename, speed, '
                f'task, ...) per line of the list (generate_motion_suite '
                f'writes it)'
            )
        with open(path) as f:
            metas = {osp.normpath(m['filename']): m for m in json.load(f)}
        prefix = self.data_prefix.get('video') or ''
        for info in data_list:
            rel = osp.normpath(
                osp.relpath(info['filename'], prefix)
                if prefix
                else info['filename']
            )
            meta = metas.get(rel)
            if meta is None or meta['label'] != info['label']:
                raise AnnotationError(
                    f'meta file {path} does not match {self.ann_file}: '
                    + (
                        f'no entry for {rel}'
                        if meta is None
                        else f'{rel} has label {meta["label"]} there, '
                        f'{info["label"]} in the list'
                    )
                    + ' (regenerate: generate_motion_suite(root, force=True))'
                )
            info['speed'] = float(meta['speed'])
            info['speed_bin'] = speed_bin(info['speed'])
            info['task'] = meta['task']
        return data_list
