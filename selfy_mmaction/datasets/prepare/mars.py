"""MARS (Zheng et al., ECCV 2016): official bounding-box images and track
info -> the tracklet lists :class:`~selfy_mmaction.datasets.TrackletDataset`
reads (``configs/_base_/datasets/mars_rawframes.py``).

Official download (``--src``)::

    bbox_train/<pid>/<pid>C<cam>T<tracklet>F<frame>.jpg   (0001C1T0001F001.jpg)
    bbox_test/<pid>/...          (pid folders 0000: distractors, 00-1: junk)
    info/train_name.txt          every bbox_train image name, in order
    info/test_name.txt           every bbox_test image name, in order
    info/tracks_train_info.mat   'track_train_info': rows [start, end, pid,
                                 camid], start/end 1-based rows of
                                 train_name.txt (8298 tracklets)
    info/tracks_test_info.mat    'track_test_info' (12180 tracklets)
    info/query_IDX.mat           'query_IDX': 1-based rows of
                                 tracks_test_info that are queries (1980)

(the ``info`` files may also sit directly in ``--src``). Written (``--out``,
by default ``data/mars``)::

    tracklets/train/<k>/img_00001.jpg ...  links to (or copies of) the images
    tracklets/test/<k>/img_00001.jpg ...   of track row k (5 digits, 0-based)
    mars_train_list_rawframes.txt   lines ``train/<k> <frames> <pid> <camid>``
    mars_test_list_rawframes.txt    lines ``test/<k> <frames> <pid> <camid>
                                    <is_query>``

Every test tracklet is listed (the MARS gallery is the whole test set;
``ReIDMetric`` treats pid -1 as junk and keeps the distractors, pid 0). A
tracklet whose images disagree with its row (another pid or camera in the
name) stops the preparation; a tracklet with a missing image is left out and
reported.
"""

import os
import os.path as osp
import shutil
from typing import List

import numpy as np

from .common import (
    PLACE_MODES,
    PrepareError,
    PrepareResult,
    entries,
    find_input,
    track,
    write_lines,
)

INFO_DIRS = ('info', '')
SPLITS = (
    (
        'train',
        'bbox_train',
        'train_name.txt',
        'tracks_train_info.mat',
        'track_train_info',
    ),
    (
        'test',
        'bbox_test',
        'test_name.txt',
        'tracks_test_info.mat',
        'track_test_info',
    ),
)


def load_mat(path: str, key: str) -> np.ndarray:
    """``key`` of a MATLAB file as an int64 array (scipy.io.loadmat)."""
    from scipy.io import loadmat

    try:
        data = loadmat(path)
    except Exception as err:  # noqa: BLE001 (re-raised with the file name)
        raise PrepareError(f'{path} is not a readable .mat file: {err}')
    if key not in data:
        found = sorted(k for k in data if not k.startswith('__'))
        raise PrepareError(f'{path} has no {key!r} (found {found})')
    return np.asarray(data[key]).astype(np.int64)


def read_names(path: str) -> List[str]:
    """The non-empty lines of a MARS name file (train_name.txt, test_name.txt)."""
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]


def name_pid_cam(name: str):
    """(pid, camid) of an image name ``<pid:4>C<cam>T...``; pid ``00-1``
    is -1."""
    try:
        if name[4] != 'C':
            raise ValueError
        return (-1 if name[:4] == '00-1' else int(name[:4])), int(name[5])
    except (ValueError, IndexError):
        raise PrepareError(
            f'image name {name!r} is not '
            f'<pid:4>C<camera>T<tracklet>F<frame>.jpg'
        )


def _place(src: str, dst: str, mode: str):
    if osp.lexists(dst):
        return
    if mode == 'symlink':
        os.symlink(src, dst)
    else:
        shutil.copyfile(src, dst)


def prepare_mars(
    src: str,
    out: str = 'data/mars',
    mode: str = 'symlink',
    progress: bool = True,
) -> PrepareResult:
    """Write the tracklet frame folders and lists of MARS.

    Args:
        src (str): The official download (see the module docstring).
        out (str): Output folder. Defaults to ``'data/mars'``.
        mode (str): ``'symlink'`` (one link per image) or ``'copy'``.
            Defaults to ``'symlink'``.
        progress (bool): Progress bars. Defaults to True.

    Returns:
        PrepareResult: Files written, tracklets per split, problems.
    """
    if mode not in PLACE_MODES:
        raise ValueError(f'mode must be one of {PLACE_MODES}, got {mode!r}')
    result = PrepareResult()
    query_idx = (
        load_mat(
            find_input(src, ['query_IDX.mat'], 'MARS query index', INFO_DIRS),
            'query_IDX',
        ).ravel()
        - 1
    )
    for split, bbox_dir, names_file, info_file, key in SPLITS:
        names = read_names(
            find_input(
                src, [names_file], f'MARS {split} image names', INFO_DIRS
            )
        )
        tracks = load_mat(
            find_input(src, [info_file], f'MARS {split} tracks', INFO_DIRS),
            key,
        )
        if tracks.ndim != 2 or tracks.shape[1] < 4:
            raise PrepareError(
                f'{info_file}: {key} has shape '
                f'{tracks.shape}, expected (tracklets, 4)'
            )
        is_query = np.zeros(len(tracks), bool)
        if split == 'test':
            if query_idx.min() < 0 or query_idx.max() >= len(tracks):
                raise PrepareError(
                    f'query_IDX.mat: indices must be in 1..{len(tracks)} '
                    f'(rows of {info_file}), got {query_idx.min() + 1}..'
                    f'{query_idx.max() + 1}'
                )
            is_query[query_idx] = True
        image_root = osp.join(src, bbox_dir)
        folders = {d: None for d in entries(image_root, f'MARS {bbox_dir}')}
        lines = []
        for k, (start, end, pid, camid) in track(
            enumerate(tracks[:, :4].tolist()), len(tracks), progress
        ):
            if not 1 <= start <= end <= len(names):
                raise PrepareError(
                    f'{info_file}, row {k + 1}: frames {start}..{end} are '
                    f'not rows of {names_file} (1..{len(names)})'
                )
            frames = names[start - 1 : end]
            wrong = [n for n in frames if name_pid_cam(n) != (pid, camid)]
            if wrong:
                raise PrepareError(
                    f'{info_file}, row {k + 1} (pid {pid}, camera {camid}): '
                    f'image {wrong[0]} is of another pid or camera'
                )
            folder, rel = frames[0][:4], f'{split}/{k:05d}'
            if folder not in folders:
                result.report(f'{bbox_dir}/{folder} missing', rel)
                continue
            if folders[folder] is None:
                folders[folder] = set(os.listdir(osp.join(image_root, folder)))
            missing = [n for n in frames if n not in folders[folder]]
            if missing:
                result.report('missing images', f'{rel} ({missing[0]})')
                continue
            dst = osp.join(out, 'tracklets', rel)
            os.makedirs(dst, exist_ok=True)
            for i, name in enumerate(frames, 1):
                _place(
                    osp.abspath(osp.join(image_root, folder, name)),
                    osp.join(dst, f'img_{i:05d}.jpg'),
                    mode,
                )
            query = f' {int(is_query[k])}' if split == 'test' else ''
            lines.append(f'{rel} {len(frames)} {pid} {camid}{query}')
        result.files[f'{split}_list'] = write_lines(
            osp.join(out, f'mars_{split}_list_rawframes.txt'), lines
        )
        result.counts[split] = len(lines)
        if split == 'test':
            result.counts['query'] = sum(line.endswith(' 1') for line in lines)
    result.files['data_root'] = osp.join(out, 'tracklets')
    return result
