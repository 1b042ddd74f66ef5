"""Checked list datasets: annotation errors with file and line, load errors
naming the file, skip_corrupt, per-sample seeding."""

import io
import logging
import os
import shutil

import numpy as np
import pytest
import torch
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from torch.utils.data import DataLoader

from selfy_mmaction.datasets import (
    AnnotationError,
    CheckedRawframeDataset,
    CheckedVideoDataset,
    MotionDatasetSpec,
    SampleLoadError,
    generate_motion_dataset,
)
from selfy_mmaction.datasets.checked import MAX_SUBSTITUTES

PIPELINE = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=4),
    dict(type='DecordDecode'),
    dict(type='RandomResizedCrop', area_range=(0.3, 1.0)),
    dict(type='Resize', scale=(16, 16), keep_ratio=False),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]


@pytest.fixture(scope='module')
def clips(tmp_path_factory):
    init_default_scope('mmaction')
    root = tmp_path_factory.mktemp('clips')
    paths = generate_motion_dataset(
        str(root),
        MotionDatasetSpec(
            seed=2,
            num_train_per_class=1,
            num_val_per_class=0,
            num_frames=8,
            size=32,
        ),
    )
    return paths


@pytest.fixture
def video_dir(clips, tmp_path):
    """A private copy of the clips (tests break files)."""
    shutil.copytree(os.path.join(clips['videos'], 'train'), tmp_path / 'v')
    lines = open(clips['train_list']).read().replace('train/', '')
    (tmp_path / 'list.txt').write_text(lines)
    return tmp_path


def _video_dataset(root, **kwargs):
    return CheckedVideoDataset(
        str(root / 'list.txt'),
        pipeline=PIPELINE,
        data_prefix=dict(video=str(root / 'v')),
        **kwargs,
    )


def _write(tmp_path, text):
    path = tmp_path / 'ann.txt'
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    'text, line, problem',
    [
        ('a.mp4 1\n\nb.mp4 2\n', 2, 'empty line'),
        ('a.mp4 1\nb.mp4 2 3\n', 2, '3 fields'),
        ('a.mp4\n', 1, '1 fields'),
        ('a.mp4 one\n', 1, "label 'one' is not an integer"),
        ('a.mp4 -1\n', 1, 'label -1 is below 0'),
        ('a.mp4  1\n', 1, 'empty field'),
        ('a.mp4 1\nb.mp4 9\n', 2, 'label 9 is out of range for num_classes=8'),
    ],
)
def test_video_list_errors_name_file_and_line(tmp_path, text, line, problem):
    ann = _write(tmp_path, text)
    with pytest.raises(AnnotationError) as err:
        CheckedVideoDataset(ann, pipeline=[], num_classes=8)
    assert f'{ann}, line {line}: {problem}' in str(err.value)
    assert 'expected "<video> <label>"' in str(err.value)


def test_multi_class_video_list(tmp_path):
    ann = _write(tmp_path, 'a.mp4 1 3\nb.mp4 2 x\n')
    with pytest.raises(AnnotationError, match=r"line 2: label 'x'"):
        CheckedVideoDataset(ann, pipeline=[], multi_class=True, num_classes=4)


@pytest.mark.parametrize(
    'text, offset, line, problem',
    [
        ('f1 8 1\nf2 8\n', False, 2, 'no label'),
        ('f1 0 1\n', False, 1, 'total_frames 0 is below 1'),
        ('f1 8 1 2\n', False, 1, '2 labels but multi_class=False'),
        ('f1 x 8 1\n', True, 1, "offset 'x' is not an integer"),
        ('f1\n', False, 1, '1 fields'),
    ],
)
def test_rawframe_list_errors_name_file_and_line(
    tmp_path, text, offset, line, problem
):
    ann = _write(tmp_path, text)
    with pytest.raises(AnnotationError) as err:
        CheckedRawframeDataset(ann, pipeline=[], with_offset=offset)
    assert f'{ann}, line {line}: {problem}' in str(err.value)


def test_valid_lists_load_as_mmaction_parses_them(tmp_path):
    ann = _write(tmp_path, 'f1 3 8 1\nf2 0 5 0\n')
    ds = CheckedRawframeDataset(ann, pipeline=[], with_offset=True)
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    assert [(d['offset'], d['total_frames'], d['label']) for d in infos] == [
        (3, 8, 1),
        (0, 5, 0),
    ]


def test_empty_list_file(tmp_path):
    ann = _write(tmp_path, '')
    with pytest.raises(AnnotationError, match='lists no samples'):
        CheckedVideoDataset(ann, pipeline=[])


@pytest.mark.parametrize(
    'damage', ['missing', 'empty', 'garbage', 'truncated']
)
def test_unreadable_video_is_named(video_dir, damage):
    ds = _video_dataset(video_dir, test_mode=True)
    path = ds.get_data_info(3)['filename']
    data = open(path, 'rb').read()
    if damage == 'missing':
        os.remove(path)
    else:
        content = dict(
            empty=b'',
            garbage=bytes(range(256)) * 8,
            truncated=data[: len(data) // 2],
        )[damage]
        open(path, 'wb').write(content)
    with pytest.raises(SampleLoadError) as err:
        ds[3]
    assert f'cannot load {path} (sample 3 of {ds.ann_file})' in str(err.value)
    assert ds[2]['inputs'].shape == (4, 3, 16, 16)  # the others still load


def test_skip_corrupt_logs_counts_and_substitutes(video_dir):
    ds = _video_dataset(video_dir, skip_corrupt=True)
    path = ds.get_data_info(1)['filename']
    open(path, 'wb').write(b'')
    ds.set_sample_seed(0, 0)
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        sample = ds[1]
        again = ds[1]
    finally:
        logger.removeHandler(handler)
    assert torch.equal(sample['inputs'], again['inputs'])  # seeded pick
    assert sample['inputs'].shape == (4, 3, 16, 16)
    assert ds.corrupt_samples() == [path]
    assert log.getvalue().count('skipping a corrupt sample (1 so far)') == 1
    assert f'cannot load {path}' in log.getvalue()


def test_skip_corrupt_counts_across_workers(video_dir):
    ds = _video_dataset(video_dir, skip_corrupt=True)
    broken = [ds.get_data_info(i)['filename'] for i in (0, 5)]
    for path in broken:
        open(path, 'wb').write(b'not a video')
    loader = DataLoader(
        ds, batch_size=2, num_workers=2, collate_fn=lambda batch: batch
    )
    assert sum(len(b) for b in loader) == len(ds)
    assert sorted(ds.corrupt_samples()) == sorted(broken)


def test_skip_corrupt_never_skips_in_test_mode(video_dir):
    ds = _video_dataset(video_dir, skip_corrupt=True, test_mode=True)
    os.remove(ds.get_data_info(0)['filename'])
    with pytest.raises(SampleLoadError, match='No such file'):
        ds[0]


def test_skip_corrupt_gives_up_on_a_broken_dataset(video_dir):
    ds = _video_dataset(video_dir, skip_corrupt=True)
    for i in range(len(ds)):
        os.remove(ds.get_data_info(i)['filename'])
    with pytest.raises(
        SampleLoadError, match=f'{MAX_SUBSTITUTES + 1} samples in a row'
    ):
        ds[0]


def _crops(ds, indices):
    return [ds[i]['inputs'] for i in indices]


def test_sample_seeding_is_per_sample_and_epoch(video_dir):
    ds = _video_dataset(video_dir)
    ds.set_sample_seed(3, 1)
    state = np.random.get_state()[1].copy()
    first = _crops(ds, range(4))
    assert np.array_equal(np.random.get_state()[1], state)  # outer untouched
    assert all(torch.equal(a, b) for a, b in zip(first, _crops(ds, range(4))))
    ds.set_sample_seed(3, 2)
    assert not all(
        torch.equal(a, b) for a, b in zip(first, _crops(ds, range(4)))
    )


def test_sample_seeding_does_not_depend_on_workers(video_dir):
    """Persistent workers see the new epoch; results equal a main-process
    load."""
    ds = _video_dataset(video_dir)
    loader = DataLoader(
        ds,
        batch_size=1,
        num_workers=2,
        persistent_workers=True,
        collate_fn=lambda batch: batch[0]['inputs'],
    )
    for epoch in (0, 1):
        ds.set_sample_seed(5, epoch)
        in_workers = list(loader)
        in_main = _crops(ds, range(len(ds)))
        assert all(torch.equal(a, b) for a, b in zip(in_workers, in_main))
    assert not torch.equal(in_workers[0], _first_epoch0(ds))


def _first_epoch0(ds):
    ds.set_sample_seed(5, 0)
    return ds[0]['inputs']
