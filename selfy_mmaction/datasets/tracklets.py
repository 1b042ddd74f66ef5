"""Tracklet datasets of video person re-identification.

:class:`TrackletDataset` reads a list file, one tracklet a line:

- videos (``data_type='video'``): ``<video> <pid> <camid> [<is_query>]``
- frame folders (``data_type='rawframes'``):
  ``<frame_dir> <total_frames> <pid> <camid> [<is_query>]``

``pid`` is the identity (MARS: -1 junk, 0 distractor), ``camid`` the camera,
``is_query`` 1 for a query tracklet (test lists; 0 or absent otherwise).
``relabel=True`` (training) numbers the identities 0..N-1 in sorted order for
the ID loss (``label``); otherwise ``label`` is the pid.

:func:`generate_tracklet_dataset` writes the embedded default: small real mp4
tracklets of generated walkers. Identities come in pairs ("twins") that share
their clothes and build and differ only in gait (stride frequency, leg swing,
bobbing), so telling the twins apart needs motion; cameras differ in
background, brightness, colour cast, scale and walking direction. Training and
test identities are disjoint.
"""

import math
import os
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional

import cv2
import numpy as np
from mmaction.datasets import BaseActionDataset
from mmaction.registry import DATASETS
from mmengine.fileio import list_from_file
from mmengine.utils import ProgressBar

from .checked import _CheckedMixin, _int_field
from .generated import generate_on_first_use, spec_is_current, write_spec
from .motion import write_video


class _TrackletList(BaseActionDataset):
    """Parses the tracklet list (see the module docstring)."""

    def __init__(
        self,
        ann_file: str,
        data_type: str = 'video',
        relabel: bool = False,
        filename_tmpl: str = 'img_{:05}.jpg',
        **kwargs,
    ):
        if data_type not in ('video', 'rawframes'):
            raise ValueError(
                f"data_type must be 'video' or 'rawframes', got {data_type!r}"
            )
        self.data_type = data_type
        self.relabel = relabel
        self.filename_tmpl = filename_tmpl
        kwargs.setdefault('start_index', 0 if data_type == 'video' else 1)
        super().__init__(ann_file, **kwargs)

    def _num_fixed(self) -> int:
        return 3 if self.data_type == 'video' else 4

    def load_data_list(self) -> List[dict]:
        prefix = self.data_prefix.get(
            'video' if self.data_type == 'video' else 'img', ''
        )
        rows = [line.split() for line in list_from_file(self.ann_file)]
        pids = sorted({int(row[self._num_fixed() - 2]) for row in rows})
        to_label = {pid: i for i, pid in enumerate(pids)}
        data_list = []
        for row in rows:
            path = osp.join(prefix, row[0]) if prefix else row[0]
            pid, camid = (
                int(v) for v in row[self._num_fixed() - 2 : self._num_fixed()]
            )
            info = dict(
                pid=pid,
                camid=camid,
                is_query=len(row) > self._num_fixed()
                and row[self._num_fixed()] == '1',
                label=to_label[pid] if self.relabel else pid,
            )
            if self.data_type == 'video':
                info['filename'] = path
            else:
                info.update(
                    frame_dir=path,
                    total_frames=int(row[1]),
                    filename_tmpl=self.filename_tmpl,
                )
            data_list.append(info)
        return data_list


@DATASETS.register_module()
class TrackletDataset(_CheckedMixin, _TrackletList):
    """Re-identification tracklets from a list file.

    Args:
        ann_file (str): List file (see the module docstring).
        pipeline (list): Transforms; ``PackActionInputs`` should keep
            ``meta_keys=('pid', 'camid', 'is_query')`` for
            :class:`~selfy_mmaction.evaluation.ReIDMetric`.
        data_type (str): ``'video'`` or ``'rawframes'``. Defaults to
            ``'video'``.
        relabel (bool): ``label`` = index of the pid among the sorted pids
            (for the ID loss); False: ``label`` = pid. Defaults to False.
        filename_tmpl (str): Frame file names (rawframes). Defaults to
            ``'img_{:05}.jpg'``.
        skip_corrupt (bool): See ``CheckedVideoDataset``. Defaults to False.
        prepare_cmd (str, optional): The command that writes ``ann_file``
            and the tracklets, named in the error when they are missing.
            Defaults to None.
        prepare_doc (str, optional): Where the preparation is documented.
            Defaults to None.
        **kwargs: ``BaseActionDataset`` arguments (``data_prefix``:
            ``dict(video=...)`` or ``dict(img=...)``; ``test_mode``;
            ``start_index``, by default 0 for videos and 1 for frames).
    """

    def __init__(
        self,
        ann_file: str,
        skip_corrupt: bool = False,
        prepare_cmd: Optional[str] = None,
        prepare_doc: Optional[str] = None,
        **kwargs,
    ):
        self._setup_checks(skip_corrupt, prepare_cmd, prepare_doc)
        super().__init__(ann_file, **kwargs)

    def _data_root(self):
        return (
            self.data_prefix.get(
                'video' if self.data_type == 'video' else 'img'
            )
            or ''
        )

    def _data_root_content(self):
        if self.data_type == 'video':
            return 'the listed tracklet videos'
        first = self.filename_tmpl.format(self.start_index)
        return f'tracklet frame folders (<frame_dir>/{first}, ...)'

    def _line_format(self):
        head = (
            '<video>'
            if self.data_type == 'video'
            else '<frame_dir> <total_frames>'
        )
        return f'{head} <pid> <camid> [<is_query>]'

    def _line_problem(self, line):
        fields = line.split()
        n = self._num_fixed()
        if len(fields) not in (n, n + 1):
            return f'{len(fields)} fields'
        if self.data_type == 'rawframes':
            problem = _int_field(fields[1], 'total_frames', 1)
            if problem:
                return problem
        problem = _int_field(fields[n - 2], 'pid', minimum=-1) or _int_field(
            fields[n - 1], 'camid'
        )
        if problem:
            return problem
        if len(fields) > n and fields[n] not in ('0', '1'):
            return f'is_query {fields[n]!r} is not 0 or 1'
        return None


@dataclass
class TrackletDatasetSpec:
    """Everything that determines the generated tracklet set.

    Args:
        seed (int): Master seed; the same spec gives the same files.
        num_train_ids (int): Training identities (even: twin pairs).
        num_test_ids (int): Test identities (even), disjoint from training.
        num_cameras (int): Cameras.
        cameras_per_id (int): Cameras that see each identity.
        tracklets_per_camera (int): Tracklets of an identity per camera.
        num_frames (int): Frames per tracklet.
        size (int): Frame height and width in pixels.
        fps (int): Frame rate written into the mp4.
        stride_freq (tuple): Range of gait frequencies (cycles per frame).
        twin_freq_ratio (float): A twin's gait frequency is this factor
            above or below its twin's.
    """

    seed: int = 0
    num_train_ids: int = 48
    num_test_ids: int = 32
    num_cameras: int = 4
    cameras_per_id: int = 3
    tracklets_per_camera: int = 2
    num_frames: int = 8
    size: int = 64
    fps: int = 8
    stride_freq: tuple = (0.08, 0.3)
    twin_freq_ratio: float = 1.8


def _identity(rng, spec, twin_of: Optional[dict] = None) -> dict:
    """Appearance and gait of an identity (a twin copies the appearance)."""
    if twin_of is None:
        look = dict(
            top=[int(c) for c in rng.integers(40, 256, 3)],
            bottom=[int(c) for c in rng.integers(20, 200, 3)],
            skin=[int(c) for c in rng.integers(90, 230, 3)],
            height=float(rng.uniform(0.72, 0.92)),
            build=float(rng.uniform(0.8, 1.25)),
            bag=bool(rng.random() < 0.4),
        )
        low, high = spec.stride_freq
        freq = float(rng.uniform(low, high / spec.twin_freq_ratio))
        gait = dict(
            freq=freq,
            swing=float(rng.uniform(0.35, 0.6)),
            bob=float(rng.uniform(0.0, 0.05)),
        )
    else:
        look = dict(twin_of['look'])
        prev = twin_of['gait']
        gait = dict(
            freq=prev['freq'] * spec.twin_freq_ratio,
            swing=float(np.clip(1.0 - prev['swing'], 0.3, 0.7)),
            bob=0.07 - prev['bob'],
        )
    return dict(look=look, gait=gait)


def _camera(rng, size) -> dict:
    cells = int(rng.integers(3, 7))
    low = rng.integers(0, 256, size=(cells, cells, 3)).astype(np.uint8)
    background = cv2.resize(
        low, (size, size), interpolation=cv2.INTER_CUBIC
    ).astype(np.float32)
    return dict(
        background=background * rng.uniform(0.3, 0.6),
        gain=float(rng.uniform(0.7, 1.2)),
        cast=rng.uniform(0.85, 1.15, 3),
        scale=float(rng.uniform(0.85, 1.0)),
        direction=int(rng.choice([-1, 1])),
    )


def render_tracklet(
    person: dict,
    camera: dict,
    rng: np.random.Generator,
    spec: TrackletDatasetSpec,
) -> np.ndarray:
    """Render a walker as ``(T, H, W, 3)`` uint8 BGR frames."""
    look, gait = person['look'], person['gait']
    size, n = spec.size, spec.num_frames
    height = look['height'] * camera['scale'] * size
    width = 0.22 * height * look['build']
    colour_noise = rng.uniform(0.9, 1.1, 3)
    phase0 = rng.uniform(0, 2 * math.pi)
    cx0 = size / 2 + rng.uniform(-2, 2)
    foot_y = (size + height) / 2 + rng.uniform(-1.5, 1.5)

    def colour(name):
        c = np.clip(np.array(look[name]) * colour_noise, 0, 255)
        return tuple(int(v) for v in c)

    frames = np.empty((n, size, size, 3), np.uint8)
    for t in range(n):
        phase = phase0 + 2 * math.pi * gait['freq'] * t
        frame = camera['background'].copy()
        bob = gait['bob'] * height * abs(math.sin(phase))
        hip = np.array([cx0, foot_y - 0.48 * height - bob])
        neck = hip - [0, 0.32 * height]
        leg = 0.48 * height
        thick = max(2, int(round(width * 0.35)))
        for sign in (1, -1):  # legs, swinging in opposite phase
            angle = sign * gait['swing'] * math.sin(phase)
            foot = hip + leg * np.array(
                [camera['direction'] * math.sin(angle), math.cos(angle)]
            )
            cv2.line(
                frame,
                tuple(int(v) for v in hip),
                tuple(int(v) for v in foot),
                colour('bottom'),
                thick,
                cv2.LINE_AA,
            )
        cv2.rectangle(
            frame,
            (int(hip[0] - width / 2), int(neck[1])),
            (int(hip[0] + width / 2), int(hip[1])),
            colour('top'),
            -1,
        )
        for sign in (1, -1):  # arms, against the legs
            angle = -sign * 0.7 * gait['swing'] * math.sin(phase)
            hand = neck + 0.3 * height * np.array(
                [camera['direction'] * math.sin(angle), math.cos(angle)]
            )
            cv2.line(
                frame,
                tuple(int(v) for v in neck + [0, 1]),
                tuple(int(v) for v in hand),
                colour('top'),
                max(1, thick - 1),
                cv2.LINE_AA,
            )
        if look['bag']:
            corner = hip - [camera['direction'] * width * 0.9, 0.2 * height]
            cv2.rectangle(
                frame,
                tuple(int(v) for v in corner),
                tuple(int(v) for v in corner + [width * 0.5, 0.15 * height]),
                (40, 40, 40),
                -1,
            )
        cv2.circle(
            frame,
            (int(neck[0]), int(neck[1] - 0.09 * height)),
            max(2, int(0.09 * height)),
            colour('skin'),
            -1,
            cv2.LINE_AA,
        )
        frame = frame * camera['gain'] * camera['cast']
        frame += rng.normal(0, 4, frame.shape)
        frames[t] = np.clip(frame, 0, 255).astype(np.uint8)
    return frames


def _identities(rng, spec, count) -> List[dict]:
    people = []
    for _ in range(count // 2):
        first = _identity(rng, spec)
        people += [first, _identity(rng, spec, twin_of=first)]
    return people


def generate_tracklet_dataset(
    root: str, spec: TrackletDatasetSpec = None, force: bool = False
) -> Dict[str, str]:
    """Generate the tracklet set into ``root`` unless the same spec is there.

    Layout: ``root/videos/{train,test}/id<pid>_c<camid>_<k>.mp4``,
    ``root/tracklets_{train,test}.txt`` (lines ``<video> <pid> <camid>
    <is_query>``; the first tracklet of each test identity in each camera is
    a query), ``root/spec.json``. Training pids are 1..N, test pids N+1..;
    cameras 1..C.

    Returns:
        dict: Paths of ``train_list``, ``test_list`` and ``videos``.
    """
    spec = spec or TrackletDatasetSpec()
    if spec.num_train_ids % 2 or spec.num_test_ids % 2:
        raise ValueError(
            f'identities come in twin pairs: num_train_ids '
            f'({spec.num_train_ids}) and num_test_ids '
            f'({spec.num_test_ids}) must be even'
        )
    if not 2 <= spec.cameras_per_id <= spec.num_cameras:
        raise ValueError(
            f'cameras_per_id must be in [2, num_cameras='
            f'{spec.num_cameras}], got {spec.cameras_per_id}'
        )
    paths = dict(
        videos=osp.join(root, 'videos'),
        train_list=osp.join(root, 'tracklets_train.txt'),
        test_list=osp.join(root, 'tracklets_test.txt'),
    )
    if not force and spec_is_current(root, spec):
        return paths
    rng = np.random.default_rng([spec.seed, 0])
    cameras = [_camera(rng, spec.size) for _ in range(spec.num_cameras)]
    splits = dict(
        train=_identities(rng, spec, spec.num_train_ids),
        test=_identities(rng, spec, spec.num_test_ids),
    )
    per_id = spec.cameras_per_id * spec.tracklets_per_camera
    total = (spec.num_train_ids + spec.num_test_ids) * per_id
    print(f'Generating the re-ID tracklet set ({total} tracklets) into {root}')
    bar = ProgressBar(total)
    first_pid = 1
    for split_idx, (split, people) in enumerate(splits.items(), 1):
        os.makedirs(osp.join(paths['videos'], split), exist_ok=True)
        lines = []
        for i, person in enumerate(people):
            pid = first_pid + i
            rng = np.random.default_rng([spec.seed, split_idx, i])
            cams = sorted(
                rng.choice(
                    spec.num_cameras, spec.cameras_per_id, replace=False
                )
            )
            for cam in cams:
                for k in range(spec.tracklets_per_camera):
                    rel = f'{split}/id{pid:04d}_c{cam + 1}_{k}.mp4'
                    write_video(
                        osp.join(paths['videos'], rel),
                        render_tracklet(person, cameras[cam], rng, spec),
                        spec.fps,
                    )
                    is_query = int(split == 'test' and k == 0)
                    lines.append(f'{rel} {pid} {cam + 1} {is_query}\n')
                    bar.update()
        first_pid += len(people)
        with open(paths[f'{split}_list'], 'w') as f:
            f.writelines(lines)
    write_spec(root, spec)
    print()
    return paths


@DATASETS.register_module()
class GeneratedTrackletDataset(TrackletDataset):
    """:class:`TrackletDataset` over the generated tracklet set, generated on
    first use into the directory of ``ann_file`` (one process generates,
    others wait on a file lock).

    Args:
        spec (dict, optional): :class:`TrackletDatasetSpec` fields.
        **kwargs: :class:`TrackletDataset` arguments.
    """

    def __init__(self, ann_file: str, spec: dict = None, **kwargs):
        generate_on_first_use(
            ann_file,
            generate_tracklet_dataset,
            TrackletDatasetSpec(**(spec or {})),
        )
        super().__init__(ann_file, **kwargs)


__all__ = [
    'GeneratedTrackletDataset',
    'TrackletDataset',
    'TrackletDatasetSpec',
    'generate_tracklet_dataset',
    'render_tracklet',
]
