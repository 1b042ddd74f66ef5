"""Diving-48 (V2 annotations): official mp4 videos and json annotations ->
what ``configs/_base_/datasets/diving48_rgb_*.py`` reads.

Official download (``--src``)::

    rgb/<vid_name>.mp4                      (Diving48_rgb.tar.gz unpacked)
    Diving48_V2_train.json                  [{"vid_name", "label", ...}, ...]
    Diving48_V2_test.json
    Diving48_vocab.json                     [["Back", "15som", ...], ...]

(the json files may also sit in ``--src/annotations``). Written (``--out``,
by default ``data/diving48``)::

    videos/<vid_name>.mp4                   link to (or copy of) the videos
    diving48_train_list_videos.txt          lines ``<vid_name>.mp4 <label>``
    diving48_val_list_videos.txt            (from Diving48_V2_test.json)
    classes.txt                             line i: vocab entry i, joined
                                            by "+" (MMAction2's label map)
"""

import os.path as osp
from typing import List

from .common import (
    PrepareError,
    PrepareResult,
    dataset_dir,
    entries,
    find_input,
    load_json,
    place_data,
    track,
    write_lines,
)

VIDEO_DIRS = ('rgb', 'videos')
SPLITS = (
    ('train', 'Diving48_V2_train.json'),
    ('val', 'Diving48_V2_test.json'),
)


def read_classes(path: str) -> List[str]:
    """Class names ``"Back+15som+05Twis+FREE"`` from the vocab's lists of
    attribute names."""
    vocab = load_json(path)
    if not isinstance(vocab, list) or not vocab:
        raise PrepareError(
            f'{path}: expected a non-empty list of '
            f'[takeoff, somersault, twist, flight] lists'
        )
    names = []
    for i, entry in enumerate(vocab):
        if not isinstance(entry, list) or not all(
            isinstance(part, str) for part in entry
        ):
            raise PrepareError(
                f'{path}, entry {i}: {entry!r} is not a list of names'
            )
        names.append('+'.join(entry))
    return names


def prepare_diving48(
    src: str,
    out: str = 'data/diving48',
    mode: str = 'symlink',
    progress: bool = True,
) -> PrepareResult:
    """Write the video lists, class names and data root of Diving-48.

    Args:
        src (str): The official download folder (see the module doc).
        out (str): Output folder. Defaults to ``'data/diving48'``.
        mode (str): ``'symlink'`` (``out/videos`` links to the official
            ``rgb`` folder) or ``'copy'``. Defaults to ``'symlink'``.
        progress (bool): Progress bars. Defaults to True.

    Returns:
        PrepareResult: Files written, samples per split, samples left out
        (no video file).
    """
    videos = dataset_dir(src, VIDEO_DIRS, 'Diving-48 video folder')
    classes = read_classes(
        find_input(src, ['Diving48_vocab.json'], 'Diving-48 vocabulary')
    )
    present = entries(videos, 'Diving-48 video folder')
    result = PrepareResult()
    listed = []
    for split, json_name in SPLITS:
        path = find_input(src, [json_name], f'Diving-48 {split} split')
        items = load_json(path)
        if not isinstance(items, list):
            raise PrepareError(
                f'{path}: expected a list of '
                f'{{"vid_name": ..., "label": ...}} objects'
            )
        lines = []
        for i, item in enumerate(track(items, len(items), progress)):
            valid = (
                isinstance(item, dict)
                and 'vid_name' in item
                and isinstance(item.get('label'), int)
                and 0 <= item['label'] < len(classes)
            )
            if not valid:
                raise PrepareError(
                    f'{path}, entry {i}: {item!r} (expected "vid_name" and '
                    f'an integer "label" in 0..{len(classes) - 1})'
                )
            video = f'{item["vid_name"]}.mp4'
            if video not in present:
                result.report('no video file', video)
                continue
            lines.append(f'{video} {item["label"]}')
            listed.append(video)
        result.files[f'{split}_list'] = write_lines(
            osp.join(out, f'diving48_{split}_list_videos.txt'), lines
        )
        result.counts[split] = len(lines)
    result.files['classes'] = write_lines(
        osp.join(out, 'classes.txt'), classes
    )
    result.files['data_root'] = place_data(
        videos, osp.join(out, 'videos'), listed, mode, progress
    )
    return result
