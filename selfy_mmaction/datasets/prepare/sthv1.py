"""Something-Something V1: official frames and csv annotations -> what
``configs/_base_/datasets/sthv1_rgb_*.py`` reads.

Official download (``--src``)::

    20bn-something-something-v1/<id>/00001.jpg ...   (the frames, 100 px high)
    something-something-v1-labels.csv       one class name a line
    something-something-v1-train.csv        lines ``<id>;<class name>``
    something-something-v1-validation.csv   lines ``<id>;<class name>``

(the csv files may also sit in ``--src/annotations``). Written (``--out``,
by default ``data/sthv1``)::

    rawframes/<id>/00001.jpg ...            link to (or copy of) the frames
    sthv1_train_list_rawframes.txt          lines ``<id> <num_frames> <label>``
    sthv1_val_list_rawframes.txt
    classes.txt                             line i: the name of class i

Labels are positions in ``something-something-v1-labels.csv`` (the order of
MMAction2's sthv1 lists, which the flip label map of the config assumes).
"""

import os
import os.path as osp
import re
from typing import List, Tuple

from .common import (
    PrepareError,
    PrepareResult,
    dataset_dir,
    entries,
    find_input,
    label_index,
    lookup_label,
    place_data,
    track,
    write_lines,
)

FRAME_DIRS = ('20bn-something-something-v1', 'rawframes')
FRAME_NAME = re.compile(r'^(\d{5})\.jpg$')
SPLITS = (
    ('train', 'something-something-v1-train.csv'),
    ('val', 'something-something-v1-validation.csv'),
)


def read_classes(path: str) -> List[str]:
    """Class names, one a line (blank lines ignored)."""
    with open(path, encoding='utf-8') as f:
        names = [line.strip() for line in f if line.strip()]
    if not names:
        raise PrepareError(f'{path} lists no classes')
    return names


def read_split(path: str) -> List[Tuple[str, str]]:
    """``(id, class name)`` of each ``<id>;<class name>`` line."""
    samples = []
    with open(path, encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            fields = line.rstrip('\r\n').split(';', 1)
            if len(fields) != 2 or not fields[0].strip():
                raise PrepareError(
                    f'{path}, line {lineno}: {line!r} '
                    f'(expected "<id>;<class name>")'
                )
            samples.append((fields[0].strip(), fields[1].strip()))
    return samples


def count_frames(frame_dir: str) -> Tuple[int, int]:
    """``(contiguous, total)``: frames ``00001.jpg ...`` without a gap from
    the first, and all frames named that way."""
    numbers = set()
    for name in os.listdir(frame_dir):
        match = FRAME_NAME.match(name)
        if match:
            numbers.add(int(match.group(1)))
    contiguous = 0
    while contiguous + 1 in numbers:
        contiguous += 1
    return contiguous, len(numbers)


def prepare_sthv1(
    src: str,
    out: str = 'data/sthv1',
    mode: str = 'symlink',
    progress: bool = True,
) -> PrepareResult:
    """Write the frame lists, class names and data root of SSv1.

    Args:
        src (str): The official download folder (see the module doc).
        out (str): Output folder. Defaults to ``'data/sthv1'``.
        mode (str): ``'symlink'`` (``out/rawframes`` links to the official
            frame folder) or ``'copy'``. Defaults to ``'symlink'``.
        progress (bool): Progress bars. Defaults to True.

    Returns:
        PrepareResult: Files written, samples per split, samples left out
        (no frame folder, no frames; a gap in the frame numbers shortens
        the sample to the frames before it and is reported too).
    """
    frames = dataset_dir(src, FRAME_DIRS, 'SSv1 frame folder')
    classes = read_classes(
        find_input(
            src, ['something-something-v1-labels.csv'], 'SSv1 class list'
        )
    )
    labels_path = 'something-something-v1-labels.csv'
    index = label_index(classes, labels_path)
    present = entries(frames, 'SSv1 frame folder')
    result = PrepareResult()
    listed = []
    for split, csv_name in SPLITS:
        path = find_input(src, [csv_name], f'SSv1 {split} split')
        samples = read_split(path)
        lines = []
        for lineno, (vid, name) in enumerate(
            track(samples, len(samples), progress), 1
        ):
            label = lookup_label(
                index, name, labels_path, f'{path}, sample {lineno}'
            )
            if vid not in present:
                result.report('no frame folder', vid)
                continue
            contiguous, total = count_frames(osp.join(frames, vid))
            if contiguous == 0:
                result.report('no frames', vid)
                continue
            if contiguous != total:
                result.report(
                    'gap in frame numbers (kept the frames before it)', vid
                )
            lines.append(f'{vid} {contiguous} {label}')
            listed.append(vid)
        result.files[f'{split}_list'] = write_lines(
            osp.join(out, f'sthv1_{split}_list_rawframes.txt'), lines
        )
        result.counts[split] = len(lines)
    result.files['classes'] = write_lines(
        osp.join(out, 'classes.txt'), classes
    )
    result.files['data_root'] = place_data(
        frames, osp.join(out, 'rawframes'), listed, mode, progress
    )
    return result
