"""Tracklet lists and the generated re-ID tracklet set."""

import os.path as osp

import decord
import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope

from selfy_mmaction.datasets import (
    GeneratedTrackletDataset,
    TrackletDataset,
    TrackletDatasetSpec,
    generate_tracklet_dataset,
)
from selfy_mmaction.datasets.checked import AnnotationError
from selfy_mmaction.datasets.tracklets import _identities

TINY = dict(
    seed=3,
    num_train_ids=4,
    num_test_ids=4,
    num_cameras=3,
    cameras_per_id=2,
    tracklets_per_camera=2,
    num_frames=4,
)

TEST_PIPELINE = [
    dict(type='DecordInit'),
    dict(type='UniformSample', clip_len=4, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(48, 48), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs', meta_keys=('pid', 'camid', 'is_query')),
]


def read_list(path):
    with open(path) as f:
        return [line.split() for line in f]


@pytest.fixture(scope='module')
def tiny_set(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('tracklets'))
    return root, generate_tracklet_dataset(root, TrackletDatasetSpec(**TINY))


def test_generated_layout(tiny_set):
    root, paths = tiny_set
    train, test = read_list(paths['train_list']), read_list(paths['test_list'])
    assert len(train) == len(test) == 4 * 2 * 2
    train_pids = {int(r[1]) for r in train}
    test_pids = {int(r[1]) for r in test}
    assert train_pids == {1, 2, 3, 4} and test_pids == {5, 6, 7, 8}
    for rows in (train, test):
        for pid in {int(r[1]) for r in rows}:
            cams = [int(r[2]) for r in rows if int(r[1]) == pid]
            assert len(set(cams)) == 2 and all(1 <= c <= 3 for c in cams)
    assert all(r[3] == '0' for r in train)
    queries = [(r[1], r[2]) for r in test if r[3] == '1']
    # one query per identity and camera
    assert len(queries) == len(set(queries)) == 4 * 2
    frames = decord.VideoReader(osp.join(paths['videos'], test[0][0]))
    assert len(frames) == 4 and frames[0].shape == (64, 64, 3)


def test_generation_is_deterministic(tiny_set, tmp_path):
    _, paths = tiny_set
    again = generate_tracklet_dataset(
        str(tmp_path), TrackletDatasetSpec(**TINY)
    )
    assert read_list(again['test_list']) == read_list(paths['test_list'])
    name = read_list(paths['test_list'])[3][0]
    a = decord.VideoReader(osp.join(paths['videos'], name))[2].asnumpy()
    b = decord.VideoReader(osp.join(again['videos'], name))[2].asnumpy()
    np.testing.assert_array_equal(a, b)


def test_twins_share_looks_but_not_gait():
    spec = TrackletDatasetSpec()
    people = _identities(np.random.default_rng(0), spec, 6)
    for first, twin in zip(people[::2], people[1::2]):
        assert first['look'] == twin['look']
        assert twin['gait']['freq'] == pytest.approx(
            first['gait']['freq'] * spec.twin_freq_ratio
        )
    assert people[0]['look'] != people[2]['look']


def test_generated_dataset_samples(tiny_set):
    init_default_scope('mmaction')
    root, paths = tiny_set
    dataset = GeneratedTrackletDataset(
        paths['test_list'],
        spec=TINY,
        data_prefix=dict(video=paths['videos']),
        pipeline=TEST_PIPELINE,
        test_mode=True,
    )
    sample = dataset[0]
    assert sample['inputs'].shape == (1, 3, 4, 48, 48)
    meta = sample['data_samples'].metainfo
    row = read_list(paths['test_list'])[0]
    assert (meta['pid'], meta['camid'], meta['is_query']) == (
        int(row[1]),
        int(row[2]),
        row[3] == '1',
    )


def test_list_parsing_and_relabel(tmp_path):
    ann = tmp_path / 'list.txt'
    ann.write_text('a/1 12 7 1 0\nb/2 9 3 2\nc/3 20 -1 4 1\n')
    (tmp_path / 'frames').mkdir()
    data = TrackletDataset(
        str(ann),
        data_type='rawframes',
        relabel=True,
        data_prefix=dict(img=str(tmp_path / 'frames')),
        pipeline=[],
    )
    infos = [data.get_data_info(i) for i in range(3)]
    assert [i['label'] for i in infos] == [2, 1, 0]  # sorted pids -1, 3, 7
    assert [i['pid'] for i in infos] == [7, 3, -1]
    assert [i['is_query'] for i in infos] == [False, False, True]
    assert infos[0]['frame_dir'] == str(tmp_path / 'frames' / 'a/1')
    assert infos[0]['total_frames'] == 12 and infos[0]['start_index'] == 1
    plain = TrackletDataset(str(ann), data_type='rawframes', pipeline=[])
    assert plain.get_data_info(0)['label'] == 7


@pytest.mark.parametrize(
    'line,problem',
    [
        ('a.mp4 1', '2 fields'),
        ('a.mp4 x 1', "pid 'x' is not an integer"),
        ('a.mp4 -2 1', 'pid -2 is below -1'),
        ('a.mp4 1 1 2', "is_query '2' is not 0 or 1"),
    ],
)
def test_bad_lines(tmp_path, line, problem):
    ann = tmp_path / 'list.txt'
    ann.write_text(f'ok.mp4 1 1\n{line}\n')
    with pytest.raises(AnnotationError, match=f'line 2: {problem}'):
        TrackletDataset(str(ann), pipeline=[])


def test_bad_data_type(tmp_path):
    with pytest.raises(ValueError, match='data_type'):
        TrackletDataset(
            str(tmp_path / 'x.txt'), data_type='frames', pipeline=[]
        )


def test_uneven_twins_rejected(tmp_path):
    with pytest.raises(ValueError, match='must be even'):
        generate_tracklet_dataset(
            str(tmp_path), TrackletDatasetSpec(num_train_ids=3)
        )


def test_pack_keeps_tensors(tiny_set):
    init_default_scope('mmaction')
    _, paths = tiny_set
    dataset = TrackletDataset(
        paths['train_list'],
        relabel=True,
        data_prefix=dict(video=paths['videos']),
        pipeline=TEST_PIPELINE,
    )
    sample = dataset[5]
    assert sample['data_samples'].gt_label.dtype == torch.int64
    assert 0 <= int(sample['data_samples'].gt_label) < 4
