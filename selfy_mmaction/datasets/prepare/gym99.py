"""FineGym Gym99 (element level): untrimmed videos and the official
annotations -> subaction clips and the lists
``configs/_base_/datasets/gym99_rgb_*.py`` reads.

Official download (``--src``)::

    videos/<youtube id>.mp4 (.mkv, .webm)   the untrimmed competition videos
    finegym_annotation_info_v1.0.json       {video: {event: {"timestamps",
                                              "segments": {subaction:
                                              {"timestamps", ...}}}}}
    gym99_train_element_v1.0.txt            lines ``<subaction id> <label>``
    gym99_val_element.txt
    gym99_categories.txt                    optional: the class names

(the annotation files may also sit in ``--src/annotations``, also under
MMAction2's names ``annotation.json``, ``gym99_{train,val}_org.txt``). A
subaction id is ``<video>_E_<event start>_<event end>_A_<start>_<end>``.
Event timestamps are seconds in the video, subaction timestamps seconds
from the event's start (several ``[start, end]`` stages for a vault: the clip
spans them all). Written (``--out``, by default ``data/gym``)::

    subactions/<subaction id>.mp4           the clips (OpenCV, mp4v)
    annotations/gym99_train.txt             ``<subaction id>.mp4 <label>``
    annotations/gym99_val.txt
    annotations/classes.txt                 (with gym99_categories.txt)

Clips are cut in one pass over each untrimmed video with OpenCV (no
ffmpeg needed): frames ``round(start * fps)`` up to ``round(end * fps)``
(at least one), re-encoded as mp4v at the source frame rate and size
(``short_side`` to shrink). Existing clips are kept, so an interrupted run
resumes. Subactions whose video is missing or cannot be read are left out
of the lists and reported (MMAction2's lists also keep only the clips that
exist).
"""

import os
import os.path as osp
import re
from dataclasses import dataclass
from multiprocessing import Pool
from typing import Dict, List, Optional, Sequence, Tuple

import cv2

from .common import (
    PrepareError,
    PrepareResult,
    find_input,
    load_json,
    track,
    write_lines,
)

SUBACTION_ID = re.compile(
    r'^(?P<video>.+)_(?P<event>E_\d+_\d+)_(?P<action>A_\d+_\d+)$'
)
VIDEO_EXTS = ('.mp4', '.mkv', '.webm')
NUM_CLASSES = 99
#: Frames to skip before seeking instead of decoding through them.
SEEK_GAP = 250


@dataclass
class Clip:
    """A subaction clip to cut: frames ``[start_s, end_s)`` seconds."""

    name: str
    start_s: float
    end_s: float


def read_element_list(path: str) -> List[Tuple[str, int]]:
    """``(subaction id, label)`` of each ``<subaction id> <label>`` line."""
    samples = []
    with open(path, encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            fields = line.split()
            valid = (
                len(fields) == 2
                and SUBACTION_ID.match(fields[0])
                and fields[1].isdigit()
                and int(fields[1]) < NUM_CLASSES
            )
            if not valid:
                raise PrepareError(
                    f'{path}, line {lineno}: {line.strip()!r} (expected '
                    f'"<video>_E_<s>_<e>_A_<s>_<e> <label 0..98>")'
                )
            samples.append((fields[0], int(fields[1])))
    return samples


def read_categories(path: str) -> List[str]:
    """Class names ``"(VT) round-off, ..."`` from lines ``Clabel: 0; set: 1;
    Glabel: 1; (VT) round-off, ...``, in Clabel order 0..98."""
    names = {}
    with open(path, encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            fields = [part.strip() for part in line.split(';', 3)]
            match = re.match(r'^Clabel:\s*(\d+)$', fields[0])
            if len(fields) != 4 or not match:
                raise PrepareError(
                    f'{path}, line {lineno}: {line.strip()!r} (expected '
                    f'"Clabel: <n>; set: <n>; Glabel: <n>; <name>")'
                )
            names[int(match.group(1))] = fields[3]
    if sorted(names) != list(range(NUM_CLASSES)):
        raise PrepareError(
            f'{path}: expected Clabel 0..{NUM_CLASSES - 1} '
            f'once each, got {len(names)} classes'
        )
    return [names[i] for i in range(NUM_CLASSES)]


def subaction_span(annotation: Dict, sid: str, source: str) -> Clip:
    """The clip of subaction ``sid`` in seconds of its untrimmed video."""
    parts = SUBACTION_ID.match(sid)
    try:
        event = annotation[parts['video']][parts['event']]
        event_start = float(event['timestamps'][0][0])
        stages = (event['segments'] or {})[parts['action']]['timestamps']
        start, end = float(stages[0][0]), float(stages[-1][1])
    except (KeyError, IndexError, TypeError, ValueError):
        raise PrepareError(
            f'{source}: no timestamps for {sid} (expected '
            f'[video][event]["segments"][subaction]'
            f'["timestamps"])'
        )
    return Clip(sid, event_start + start, event_start + end)


def find_video(videos: str, vid: str, present: set) -> Optional[str]:
    """The path of video ``vid`` in ``videos`` with any known extension, or None."""
    for ext in VIDEO_EXTS:
        if vid + ext in present:
            return osp.join(videos, vid + ext)
    return None


def _resize(frame, short_side: int):
    """Shrink to ``short_side`` (even sizes: mp4v drops an odd column)."""
    h, w = frame.shape[:2]
    if not short_side or min(h, w) <= short_side:
        return frame
    scale = short_side / min(h, w)
    size = (max(2, 2 * round(w * scale / 2)), max(2, 2 * round(h * scale / 2)))
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)


def cut_clips(
    video: str, clips: Sequence[Clip], out_dir: str, short_side: int = 0
) -> List[Tuple[str, str]]:
    """Write each clip of ``video`` to ``out_dir/<name>.mp4`` in one pass.

    Args:
        video (str): The untrimmed video.
        clips (Sequence[Clip]): Clips of that video (any order, may
            overlap).
        out_dir (str): Output folder; existing clips are kept.
        short_side (int): Shrink frames to this short side (0: keep).

    Returns:
        list[tuple[str, str]]: ``(name, problem)`` of clips not written.
    """
    todo = [
        c for c in clips if not osp.exists(osp.join(out_dir, c.name + '.mp4'))
    ]
    if not todo:
        return []
    cap = cv2.VideoCapture(video)
    fps = cap.get(cv2.CAP_PROP_FPS) if cap.isOpened() else 0
    if not fps or fps <= 0:
        cap.release()
        return [(c.name, f'cannot read {video}') for c in todo]
    spans = sorted(
        ((round(c.start_s * fps), c) for c in todo), key=lambda span: span[0]
    )
    spans = [
        (first, max(first + 1, round(c.end_s * fps)), c) for first, c in spans
    ]
    failed, open_clips, pos, nxt = [], [], 0, 0
    fourcc = cv2.VideoWriter_fourcc(*'mp4v')
    while nxt < len(spans) or open_clips:
        if not open_clips and spans[nxt][0] - pos > SEEK_GAP:
            cap.set(cv2.CAP_PROP_POS_FRAMES, spans[nxt][0])
            pos = int(cap.get(cv2.CAP_PROP_POS_FRAMES))
        ok, frame = cap.read()
        if not ok:
            break
        frame = _resize(frame, short_side)
        while nxt < len(spans) and spans[nxt][0] <= pos:
            first, stop, clip = spans[nxt]
            tmp = osp.join(out_dir, clip.name + '.tmp.mp4')
            writer = cv2.VideoWriter(
                tmp, fourcc, fps, (frame.shape[1], frame.shape[0])
            )
            open_clips.append([stop, clip, tmp, writer, 0])
            nxt += 1
        for entry in open_clips:
            entry[3].write(frame)
            entry[4] += 1
        pos += 1
        for entry in [e for e in open_clips if e[0] <= pos]:
            open_clips.remove(entry)
            entry[3].release()
            os.replace(entry[2], osp.join(out_dir, entry[1].name + '.mp4'))
    cap.release()
    for stop, clip, tmp, writer, written in open_clips:
        writer.release()
        os.remove(tmp)
        failed.append(
            (
                clip.name,
                f'{video} ended after frame {pos} (clip ends at frame {stop})',
            )
        )
    for first, stop, clip in spans[nxt:]:
        failed.append(
            (
                clip.name,
                f'{video} ended after frame {pos} (clip '
                f'starts at frame {first})',
            )
        )
    return failed


def _cut_job(job):
    return cut_clips(*job)


def prepare_gym99(
    src: str,
    out: str = 'data/gym',
    short_side: int = 0,
    workers: int = 1,
    progress: bool = True,
) -> PrepareResult:
    """Cut the Gym99 subaction clips and write their lists.

    Args:
        src (str): The official download folder (see the module doc).
        out (str): Output folder. Defaults to ``'data/gym'``.
        short_side (int): Shrink clip frames to this short side (0: keep the
            source size). Defaults to 0.
        workers (int): Untrimmed videos cut in parallel. Defaults to 1.
        progress (bool): Progress bar (over untrimmed videos). Defaults to
            True.

    Returns:
        PrepareResult: Files written, samples per split, samples left out
        (no untrimmed video; the clip could not be cut).
    """
    ann_path = find_input(
        src,
        [
            'finegym_annotation_info_v1.0.json',
            'finegym_annotation_info_v1.1.json',
            'annotation.json',
        ],
        'FineGym annotation',
    )
    annotation = load_json(ann_path)
    splits = {
        'train': find_input(
            src,
            [
                'gym99_train_element_v1.0.txt',
                'gym99_train_element_v1.1.txt',
                'gym99_train_org.txt',
            ],
            'Gym99 train split',
        ),
        'val': find_input(
            src,
            ['gym99_val_element.txt', 'gym99_val_org.txt'],
            'Gym99 val split',
        ),
    }
    samples = {s: read_element_list(p) for s, p in splits.items()}
    videos = osp.join(src, 'videos')
    present = set(os.listdir(videos)) if osp.isdir(videos) else set()
    if not present:
        raise PrepareError(
            f'Gym99 untrimmed videos not found: {videos} is '
            f'empty or not a directory'
        )
    result = PrepareResult()
    by_video: Dict[str, List[Clip]] = {}
    seen = set()
    for sid, _ in samples['train'] + samples['val']:
        clip = subaction_span(annotation, sid, ann_path)
        video = find_video(videos, SUBACTION_ID.match(sid)['video'], present)
        if video is None:
            result.report('untrimmed video not downloaded', sid)
        elif sid not in seen:
            seen.add(sid)
            by_video.setdefault(video, []).append(clip)
    clip_dir = osp.join(out, 'subactions')
    os.makedirs(clip_dir, exist_ok=True)
    jobs = [
        (path, clips, clip_dir, short_side)
        for path, clips in sorted(by_video.items())
    ]
    if workers > 1:
        with Pool(workers) as pool:
            outcomes = list(
                track(pool.imap_unordered(_cut_job, jobs), len(jobs), progress)
            )
    else:
        outcomes = list(track(map(_cut_job, jobs), len(jobs), progress))
    for failed in outcomes:
        for name, problem in failed:
            result.report('clip could not be cut', f'{name} ({problem})')
    done = set(os.listdir(clip_dir))
    for split in splits:
        lines = [
            f'{sid}.mp4 {label}'
            for sid, label in samples[split]
            if f'{sid}.mp4' in done
        ]
        result.files[f'{split}_list'] = write_lines(
            osp.join(out, 'annotations', f'gym99_{split}.txt'), lines
        )
        result.counts[split] = len(lines)
    try:
        categories = find_input(
            src, ['gym99_categories.txt'], 'Gym99 class names'
        )
    except PrepareError:
        categories = None
    if categories:
        result.files['classes'] = write_lines(
            osp.join(out, 'annotations', 'classes.txt'),
            read_categories(categories),
        )
    result.files['data_root'] = clip_dir
    return result
