"""Something-Something V2: official webm videos and json annotations ->
what ``configs/_base_/datasets/sthv2_rgb_*.py`` reads.

Official download (``--src``)::

    20bn-something-something-v2/<id>.webm   (the videos, 240 px high)
    something-something-v2-labels.json      {"<template>": "<index>", ...}
    something-something-v2-train.json       [{"id", "template", ...}, ...]
    something-something-v2-validation.json

(the json files may also sit in ``--src/annotations`` or ``--src/labels``;
``template`` has brackets, ``"Putting [something] on [something]"``).
Written (``--out``, by default ``data/sthv2``)::

    videos/<id>.webm                        link to (or copy of) the videos
    sthv2_train_list_videos.txt             lines ``<id>.webm <label>``
    sthv2_val_list_videos.txt
    classes.txt                             line i: the name of class i

Labels are the indices of ``something-something-v2-labels.json`` (as in
MMAction2's sthv2 lists).
"""

import os.path as osp
from typing import Dict, List

from .common import (
    PrepareError,
    PrepareResult,
    dataset_dir,
    entries,
    find_input,
    load_json,
    lookup_label,
    place_data,
    track,
    write_lines,
)

VIDEO_DIRS = ('20bn-something-something-v2', 'videos')
SPLITS = (
    ('train', 'something-something-v2-train.json'),
    ('val', 'something-something-v2-validation.json'),
)


def read_classes(path: str) -> List[str]:
    """Class names by index from ``{"<name>": "<index>"}``; the indices
    must be 0 .. n-1, each once."""
    mapping = load_json(path)
    if not isinstance(mapping, dict) or not mapping:
        raise PrepareError(
            f'{path}: expected a non-empty object '
            f'{{"<class name>": "<index>", ...}}'
        )
    names = [None] * len(mapping)
    for name, value in mapping.items():
        try:
            idx = int(value)
        except (TypeError, ValueError):
            idx = -1
        if not 0 <= idx < len(names) or names[idx] is not None:
            raise PrepareError(
                f'{path}: class {name!r} has index {value!r} (expected each '
                f'of 0..{len(names) - 1} once)'
            )
        names[idx] = name
    return names


def read_split(path: str) -> List[Dict]:
    """The samples of an SSv2 split file (a list of id/template objects)."""
    items = load_json(path)
    if not isinstance(items, list):
        raise PrepareError(
            f'{path}: expected a list of '
            f'{{"id": ..., "template": ...}} objects'
        )
    for i, item in enumerate(items):
        if (
            not isinstance(item, dict)
            or 'id' not in item
            or 'template' not in item
        ):
            raise PrepareError(
                f'{path}, entry {i}: {item!r} has no "id" or no "template"'
            )
    return items


def prepare_sthv2(
    src: str,
    out: str = 'data/sthv2',
    mode: str = 'symlink',
    progress: bool = True,
) -> PrepareResult:
    """Write the video lists, class names and data root of SSv2.

    Args:
        src (str): The official download folder (see the module doc).
        out (str): Output folder. Defaults to ``'data/sthv2'``.
        mode (str): ``'symlink'`` (``out/videos`` links to the official
            video folder) or ``'copy'``. Defaults to ``'symlink'``.
        progress (bool): Progress bars. Defaults to True.

    Returns:
        PrepareResult: Files written, samples per split, samples left out
        (no video file).
    """
    videos = dataset_dir(src, VIDEO_DIRS, 'SSv2 video folder')
    labels_name = 'something-something-v2-labels.json'
    classes = read_classes(find_input(src, [labels_name], 'SSv2 class list'))
    index = {name: i for i, name in enumerate(classes)}
    present = entries(videos, 'SSv2 video folder')
    result = PrepareResult()
    listed = []
    for split, json_name in SPLITS:
        path = find_input(src, [json_name], f'SSv2 {split} split')
        items = read_split(path)
        lines = []
        for i, item in enumerate(track(items, len(items), progress)):
            name = item['template'].replace('[', '').replace(']', '')
            label = lookup_label(
                index, name, labels_name, f'{path}, entry {i}'
            )
            video = f'{item["id"]}.webm'
            if video not in present:
                result.report('no video file', video)
                continue
            lines.append(f'{video} {label}')
            listed.append(video)
        result.files[f'{split}_list'] = write_lines(
            osp.join(out, f'sthv2_{split}_list_videos.txt'), lines
        )
        result.counts[split] = len(lines)
    result.files['classes'] = write_lines(
        osp.join(out, 'classes.txt'), classes
    )
    result.files['data_root'] = place_data(
        videos, osp.join(out, 'videos'), listed, mode, progress
    )
    return result
