"""MARS preparation on a tiny fake copy of the official layout."""

import importlib.util
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmaction.registry import DATASETS
from mmengine.config import Config
from mmengine.registry import init_default_scope
from scipy.io import savemat

from selfy_mmaction.datasets import DatasetNotPreparedError, TrackletDataset
from selfy_mmaction.datasets.prepare.common import PrepareError
from selfy_mmaction.datasets.prepare.mars import prepare_mars

# (pid text, camera, tracklet, frames): image names <pid>C<cam>T<t>F<f>.jpg
TRAIN = [('0001', 1, 1, 3), ('0001', 2, 1, 2), ('0003', 1, 1, 4)]
TEST = [
    ('0002', 1, 1, 2),
    ('0002', 3, 1, 3),
    ('0000', 2, 1, 2),
    ('00-1', 4, 1, 1),
    ('0004', 6, 2, 2),
]
QUERY_ROWS = [1, 5]  # 1-based rows of tracks_test_info
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def grey(name):
    """The grey level of a fake image (different for every image)."""
    return sum(map(ord, name)) % 200 + 20


def make_split(root, bbox_dir, tracks):
    names, rows = [], []
    for pid, cam, t, frames in tracks:
        folder = osp.join(root, bbox_dir, pid)
        os.makedirs(folder, exist_ok=True)
        start = len(names) + 1
        for f in range(1, frames + 1):
            name = f'{pid}C{cam}T{t:04d}F{f:03d}.jpg'
            cv2.imwrite(
                osp.join(folder, name),
                np.full((16, 8, 3), grey(name), np.uint8),
            )
            names.append(name)
        rows.append(
            [start, len(names), -1 if pid == '00-1' else int(pid), cam]
        )
    return names, np.array(rows, dtype=np.float64)  # MATLAB stores doubles


def fake_mars(root, test_tracks=TEST, query=QUERY_ROWS):
    info = osp.join(root, 'info')
    os.makedirs(info)
    for split, tracks, key in (
        ('train', TRAIN, 'track_train_info'),
        ('test', test_tracks, 'track_test_info'),
    ):
        names, rows = make_split(root, f'bbox_{split}', tracks)
        with open(osp.join(info, f'{split}_name.txt'), 'w') as f:
            f.writelines(n + '\n' for n in names)
        savemat(osp.join(info, f'tracks_{split}_info.mat'), {key: rows})
    savemat(
        osp.join(info, 'query_IDX.mat'),
        {'query_IDX': np.array([query], dtype=np.float64)},
    )


def read(path):
    with open(path) as f:
        return [line.split() for line in f]


@pytest.mark.parametrize('mode', ['symlink', 'copy'])
def test_prepare_fake_mars(tmp_path, mode):
    src, out = str(tmp_path / 'MARS'), str(tmp_path / 'out')
    fake_mars(src)
    result = prepare_mars(src, out, mode=mode, progress=False)
    assert result.counts == dict(train=3, test=5, query=2)
    assert not result.problems
    train = read(result.files['train_list'])
    assert train == [
        ['train/00000', '3', '1', '1'],
        ['train/00001', '2', '1', '2'],
        ['train/00002', '4', '3', '1'],
    ]
    test = read(result.files['test_list'])
    assert [r[2:] for r in test] == [
        ['2', '1', '1'],
        ['2', '3', '0'],
        ['0', '2', '0'],
        ['-1', '4', '0'],
        ['4', '6', '1'],
    ]
    # frames renumbered in tracklet order, pointing at the right images
    frame = osp.join(out, 'tracklets', 'test', '00001', 'img_00003.jpg')
    assert abs(cv2.imread(frame).mean() - grey('0002C3T0001F003.jpg')) < 2
    assert osp.islink(frame) == (mode == 'symlink')
    # the lists load as TrackletDataset rawframes
    data = TrackletDataset(
        result.files['test_list'],
        data_type='rawframes',
        data_prefix=dict(img=result.files['data_root']),
        pipeline=[],
        test_mode=True,
    )
    info = data.get_data_info(4)
    assert (info['pid'], info['camid'], info['is_query']) == (4, 6, True)
    assert info['total_frames'] == 2
    # running again keeps what is there
    again = prepare_mars(src, out, mode=mode, progress=False)
    assert read(again.files['test_list']) == test


def test_missing_image_is_reported(tmp_path):
    src = str(tmp_path / 'MARS')
    fake_mars(src)
    os.remove(osp.join(src, 'bbox_test', '0002', '0002C3T0001F002.jpg'))
    result = prepare_mars(src, str(tmp_path / 'out'), progress=False)
    assert result.counts['test'] == 4
    assert result.problems == {
        'missing images': ['test/00001 (0002C3T0001F002.jpg)']
    }


def test_inconsistent_row_and_bad_query(tmp_path):
    src = str(tmp_path / 'a')
    fake_mars(src)
    info = osp.join(src, 'info', 'tracks_test_info.mat')
    _, rows = make_split(str(tmp_path / 'b'), 'x', TEST)
    rows[1, 3] = 5  # camera 5, but the images say camera 3
    savemat(info, {'track_test_info': rows})
    with pytest.raises(
        PrepareError,
        match=r'row 2 \(pid 2, camera 5\): '
        r'image 0002C3T0001F001.jpg',
    ):
        prepare_mars(src, str(tmp_path / 'out'), progress=False)
    src2 = str(tmp_path / 'c')
    fake_mars(src2, query=[1, 9])
    with pytest.raises(PrepareError, match=r'indices must be in 1..5'):
        prepare_mars(src2, str(tmp_path / 'out2'), progress=False)


def test_missing_files(tmp_path):
    with pytest.raises(PrepareError, match='query_IDX.mat'):
        prepare_mars(str(tmp_path), str(tmp_path / 'out'), progress=False)
    src = str(tmp_path / 'MARS')
    fake_mars(src)
    savemat(osp.join(src, 'info', 'query_IDX.mat'), {'other': np.ones(1)})
    with pytest.raises(PrepareError, match="no 'query_IDX'"):
        prepare_mars(src, str(tmp_path / 'out'), progress=False)


def load_cli():
    spec = importlib.util.spec_from_file_location(
        'prepare_dataset',
        osp.join(REPO, 'tools', 'data', 'prepare_dataset.py'),
    )
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    return cli


def test_cli_and_config_read_the_output(tmp_path, capsys, monkeypatch):
    src = str(tmp_path / 'MARS')
    fake_mars(src)
    monkeypatch.chdir(tmp_path)  # the config's data/mars
    cli = load_cli()
    assert cli.main(['mars', '--src', src, '--no-progress']) == 0
    lines = capsys.readouterr().out.splitlines()
    assert 'train: 3 samples listed' in lines
    assert 'query: 2 samples listed' in lines
    init_default_scope('mmaction')
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', '_base_', 'datasets', 'mars_rawframes.py')
    )
    for loader in ('train_dataloader', 'test_dataloader'):
        dataset = DATASETS.build(cfg[loader].dataset)
        sample = dataset[1]
        assert sample['inputs'].shape == (1, 3, 8, 256, 128)
    meta = sample['data_samples'].metainfo
    assert (meta['pid'], meta['camid'], meta['is_query']) == (2, 3, False)
    # the 3 frames of test tracklet 1, each sampled into the 8-frame clip
    levels = sorted(
        {round(float(v)) for v in sample['inputs'][0, 0, :, 100, 60]}
    )
    assert len(levels) == 3


def test_unprepared_mars_names_the_command(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    init_default_scope('mmaction')
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', '_base_', 'datasets', 'mars_rawframes.py')
    )
    with pytest.raises(
        DatasetNotPreparedError, match='prepare_dataset.py mars --src'
    ):
        DATASETS.build(cfg.train_dataloader.dataset)
