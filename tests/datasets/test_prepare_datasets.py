"""Dataset preparation (issue #17): tiny fake layouts of the official
SSv1, SSv2, Diving-48 and FineGym downloads go through
``selfy_mmaction.datasets.prepare`` (and once through the CLI); the outputs
are checked line by line and then read by the config's own dataset and
pipeline from the paths the config names. Missing or malformed prepared
data stops with :class:`DatasetNotPreparedError` / ``AnnotationError``."""

import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import decord
import numpy as np
import pytest
from mmaction.registry import DATASETS
from mmengine.config import Config
from mmengine.registry import init_default_scope

from selfy_mmaction.datasets import AnnotationError, DatasetNotPreparedError
from selfy_mmaction.datasets.prepare import (
    PrepareError,
    prepare_diving48,
    prepare_gym99,
    prepare_sthv1,
    prepare_sthv2,
)
from selfy_mmaction.datasets.prepare import gym99 as gym99_module

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASES = osp.join(REPO, 'configs', '_base_', 'datasets')
SIZE = (64, 48)  # w, h (decord 0.6 cannot read OpenCV mp4v 48 px wide)


def _frame(i):
    """A flat BGR frame that encodes ``i`` < 144 (see :func:`_indices`)."""
    color = ((i % 12) * 20 + 10, (i // 12) * 20 + 10, 128)
    return np.full((SIZE[1], SIZE[0], 3), color, np.uint8)


def _indices(path):
    """The :func:`_frame` number of each frame of a video (decord)."""
    reader = decord.VideoReader(path)
    colors = [
        reader[i].asnumpy().reshape(-1, 3).mean(0)  # RGB
        for i in range(len(reader))
    ]
    return [
        int(round((c[2] - 10) / 20)) + 12 * int(round((c[1] - 10) / 20))
        for c in colors
    ]


def _video(path, num_frames, fps=12, fourcc='mp4v'):
    os.makedirs(osp.dirname(path), exist_ok=True)
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*fourcc), fps, SIZE)
    assert writer.isOpened(), path
    for i in range(num_frames):
        writer.write(_frame(i))
    writer.release()


def _read(path):
    with open(path) as f:
        return f.read().splitlines()


def _dataset(base, split='val_dataloader'):
    """The base's ``split`` dataset exactly as configured (paths relative
    to the current directory)."""
    init_default_scope('mmaction')
    cfg = Config.fromfile(osp.join(BASES, base))
    return DATASETS.build(cfg[split].dataset)


def _check_samples(base, labels, frames=8):
    """Every val sample decodes through the config's pipeline with its
    label; one train sample too."""
    ds = _dataset(base)
    assert len(ds) == len(labels)
    for i, label in enumerate(labels):
        item = ds[i]
        assert tuple(item['inputs'].shape) == (frames, 3, 224, 224)
        assert item['data_samples'].gt_label.item() == label
    train = _dataset(base, 'train_dataloader')
    assert tuple(train[0]['inputs'].shape) == (frames, 3, 224, 224)


# --- Something-Something V1 --------------------------------------------------

SSV1_CLASSES = [
    'Holding something',
    'Turning something upside down',
    'Turning the camera left while filming something',
    'Pushing something from left to right',
]


def _ssv1_download(root, frames=None):
    """ids 1-3: 10 frames; 4: frames 1-5 and 7-8 (a gap); 5 listed
    without frames; 6 has an empty folder."""
    frames = frames or {
        '1': 10,
        '2': 10,
        '3': 10,
        '4': [1, 2, 3, 4, 5, 7, 8],
        '6': [],
    }
    base = root / '20bn-something-something-v1'
    for vid, numbers in frames.items():
        (base / vid).mkdir(parents=True)
        numbers = (
            range(1, numbers + 1) if isinstance(numbers, int) else numbers
        )
        for n in numbers:
            cv2.imwrite(str(base / vid / f'{n:05d}.jpg'), _frame(n))
    (root / 'something-something-v1-labels.csv').write_text(
        '\n'.join(SSV1_CLASSES) + '\n'
    )
    (root / 'something-something-v1-train.csv').write_text(
        '1;Turning the camera left while filming something\n'
        '4;Holding something\n'
        '5;Holding something\n'
        '6;Holding something\n'
    )
    (root / 'something-something-v1-validation.csv').write_text(
        '3;Pushing something from left to right\n2;Holding something\n'
    )
    return root


def test_sthv1_lists_classes_and_config(tmp_path, monkeypatch):
    src = _ssv1_download(tmp_path / 'download')
    monkeypatch.chdir(tmp_path)
    result = prepare_sthv1(str(src), progress=False)
    assert _read('data/sthv1/sthv1_train_list_rawframes.txt') == [
        '1 10 2',
        '4 5 0',
    ]
    assert _read('data/sthv1/sthv1_val_list_rawframes.txt') == [
        '3 10 3',
        '2 10 0',
    ]
    assert _read('data/sthv1/classes.txt') == SSV1_CLASSES
    assert osp.islink('data/sthv1/rawframes')
    assert result.counts == dict(train=2, val=2)
    assert result.problems == {
        'no frame folder': ['5'],
        'no frames': ['6'],
        'gap in frame numbers (kept the frames before it)': ['4'],
    }
    _check_samples('sthv1_rgb_8f.py', [3, 0])
    _check_samples('sthv1_rgb_16f.py', [3, 0], frames=16)
    # the same again is fine (the link is already there)
    prepare_sthv1(str(src), progress=False)


def test_sthv1_copy_mode_copies_listed_folders(tmp_path):
    src = _ssv1_download(tmp_path / 'download')
    out = tmp_path / 'out'
    prepare_sthv1(str(src), str(out), mode='copy', progress=False)
    assert sorted(os.listdir(out / 'rawframes')) == ['1', '2', '3', '4']
    assert len(os.listdir(out / 'rawframes' / '1')) == 10
    assert not osp.islink(out / 'rawframes')


@pytest.mark.parametrize(
    'name,text,problem',
    [
        (
            'something-something-v1-train.csv',
            '1 Holding something\n',
            'line 1: \'1 Holding something\\n\' (expected "<id>;<class name>")',
        ),
        (
            'something-something-v1-validation.csv',
            '2;Holding nothing\n',
            "class 'Holding nothing' is not in something-something-v1-labels.csv",
        ),
        (
            'something-something-v1-labels.csv',
            'A\nB\nA\n',
            "class 'A' is listed twice (entries 0 and 2)",
        ),
    ],
)
def test_sthv1_malformed_download(tmp_path, name, text, problem):
    src = _ssv1_download(tmp_path / 'download')
    (src / name).write_text(text)
    with pytest.raises(PrepareError) as err:
        prepare_sthv1(str(src), str(tmp_path / 'out'), progress=False)
    assert problem in str(err.value)


def test_missing_official_file_is_named(tmp_path):
    src = _ssv1_download(tmp_path / 'download')
    os.remove(src / 'something-something-v1-validation.csv')
    with pytest.raises(PrepareError) as err:
        prepare_sthv1(str(src), str(tmp_path / 'out'), progress=False)
    assert str(err.value).startswith(
        'SSv1 val split not found: none of '
        'something-something-v1-validation.csv in'
    )


# --- Something-Something V2 --------------------------------------------------

SSV2_LABELS = {
    'Holding something': '1',
    'Putting something on a surface': '0',
    'Pushing something from left to right': '2',
}


def _ssv2_download(root):
    for vid in ('10', '11', '12'):
        _video(
            str(root / '20bn-something-something-v2' / f'{vid}.webm'),
            12,
            fourcc='VP80',
        )
    (root / 'labels').mkdir()
    (root / 'labels' / 'something-something-v2-labels.json').write_text(
        json.dumps(SSV2_LABELS)
    )

    def item(vid, template):
        return dict(
            id=vid,
            label=template.lower(),
            template=template,
            placeholders=['cup'],
        )

    (root / 'labels' / 'something-something-v2-train.json').write_text(
        json.dumps(
            [
                item('11', 'Holding [something]'),
                item('99', 'Holding [something]'),
                item('10', 'Putting [something] on a surface'),
            ]
        )
    )
    (root / 'labels' / 'something-something-v2-validation.json').write_text(
        json.dumps([item('12', 'Pushing [something] from left to right')])
    )
    return root


def test_sthv2_lists_classes_and_config(tmp_path, monkeypatch):
    src = _ssv2_download(tmp_path / 'download')
    monkeypatch.chdir(tmp_path)
    result = prepare_sthv2(str(src), progress=False)
    assert _read('data/sthv2/sthv2_train_list_videos.txt') == [
        '11.webm 1',
        '10.webm 0',
    ]
    assert _read('data/sthv2/sthv2_val_list_videos.txt') == ['12.webm 2']
    assert _read('data/sthv2/classes.txt') == [
        'Putting something on a surface',
        'Holding something',
        'Pushing something from left to right',
    ]
    assert result.problems == {'no video file': ['99.webm']}
    _check_samples('sthv2_rgb_8f.py', [2])
    _check_samples('sthv2_rgb_16f.py', [2], frames=16)


def test_sthv2_copy_mode_and_bad_labels(tmp_path):
    src = _ssv2_download(tmp_path / 'download')
    prepare_sthv2(str(src), str(tmp_path / 'out'), 'copy', progress=False)
    assert sorted(os.listdir(tmp_path / 'out' / 'videos')) == [
        '10.webm',
        '11.webm',
        '12.webm',
    ]
    (src / 'labels' / 'something-something-v2-labels.json').write_text(
        json.dumps({'A': '0', 'B': '0'})
    )
    with pytest.raises(PrepareError, match="class 'B' has index '0'"):
        prepare_sthv2(str(src), str(tmp_path / 'out2'), progress=False)


# --- Diving-48 ---------------------------------------------------------------

DIVING_VOCAB = [
    ['Back', '15som', '05Twis', 'FREE'],
    ['Forward', '25som', 'NoTwis', 'PIKE'],
    ['Inward', 'Dive', 'NoTwis', 'TUCK'],
]


def _diving_download(root):
    for vid in ('_8Vy3dlHg2w_00000', 'abc_00001', 'abc_00002'):
        _video(str(root / 'rgb' / f'{vid}.mp4'), 12)

    def item(vid, label):
        return dict(vid_name=vid, label=label, start_frame=0, end_frame=11)

    (root / 'Diving48_vocab.json').write_text(json.dumps(DIVING_VOCAB))
    (root / 'Diving48_V2_train.json').write_text(
        json.dumps([item('abc_00001', 2), item('_8Vy3dlHg2w_00000', 0)])
    )
    (root / 'Diving48_V2_test.json').write_text(
        json.dumps([item('abc_00002', 1), item('gone_00003', 1)])
    )
    return root


def test_diving48_lists_classes_and_config(tmp_path, monkeypatch):
    src = _diving_download(tmp_path / 'download')
    monkeypatch.chdir(tmp_path)
    result = prepare_diving48(str(src), progress=False)
    assert _read('data/diving48/diving48_train_list_videos.txt') == [
        'abc_00001.mp4 2',
        '_8Vy3dlHg2w_00000.mp4 0',
    ]
    assert _read('data/diving48/diving48_val_list_videos.txt') == [
        'abc_00002.mp4 1'
    ]
    assert _read('data/diving48/classes.txt') == [
        'Back+15som+05Twis+FREE',
        'Forward+25som+NoTwis+PIKE',
        'Inward+Dive+NoTwis+TUCK',
    ]
    assert result.problems == {'no video file': ['gone_00003.mp4']}
    _check_samples('diving48_rgb_8f.py', [1])
    _check_samples('diving48_rgb_16f.py', [1], frames=16)


def test_diving48_label_out_of_vocab(tmp_path):
    src = _diving_download(tmp_path / 'download')
    (src / 'Diving48_V2_test.json').write_text(
        json.dumps([dict(vid_name='abc_00002', label=3)])
    )
    with pytest.raises(PrepareError, match=r'Diving48_V2_test.json, entry 0'):
        prepare_diving48(str(src), str(tmp_path / 'out'), progress=False)


# --- FineGym Gym99 -----------------------------------------------------------

FPS = 10
GYM_TRAIN = [
    'vidA_E_000002_000008_A_0000_0001 5',
    'vid_B_E_000001_000003_A_0000_0001 7',
]
GYM_VAL = [
    'vidA_E_000002_000008_A_0001_0002 98',
    'vidA_E_000009_000010_A_0000_0001 0',
]


def _gym_download(root):
    """vidA: 12 s at 10 fps (frame i is ``_frame(i)``); vid_B (an id with
    an underscore) was not downloaded."""
    _video(str(root / 'videos' / 'vidA.mp4'), 12 * FPS, fps=FPS)
    segment = dict(stages=1, timestamps=[[1.0, 2.5]])
    vault = dict(stages=3, timestamps=[[3.0, 3.5], [3.5, 4.0], [4.0, 4.5]])
    annotation = {
        'vidA': {
            'E_000002_000008': dict(
                event=1,
                timestamps=[[2.0, 8.0]],
                segments={'A_0000_0001': segment, 'A_0001_0002': vault},
            ),
            'E_000009_000010': dict(
                event=4,
                timestamps=[[9.0, 10.0]],
                segments={
                    'A_0000_0001': dict(stages=1, timestamps=[[0.5, 0.5]])
                },
            ),
            'E_000020_000030': dict(
                event=2, timestamps=[[20.0, 30.0]], segments=None
            ),
        },
        'vid_B': {
            'E_000001_000003': dict(
                event=1,
                timestamps=[[1.0, 3.0]],
                segments={'A_0000_0001': segment},
            ),
        },
    }
    (root / 'annotations').mkdir()
    (root / 'annotations' / 'finegym_annotation_info_v1.0.json').write_text(
        json.dumps(annotation)
    )
    (root / 'annotations' / 'gym99_train_element_v1.0.txt').write_text(
        '\n'.join(GYM_TRAIN) + '\n'
    )
    (root / 'annotations' / 'gym99_val_element.txt').write_text(
        '\n'.join(GYM_VAL) + '\n'
    )
    (root / 'annotations' / 'gym99_categories.txt').write_text(
        ''.join(
            f'Clabel: {i:3d}; set: {i // 10:2d}; Glabel: {3 * i:3d}; '
            f'(VT) element {i}\n'
            for i in range(99)
        )
    )
    return root


@pytest.mark.parametrize('seek_gap', [250, 5])
def test_gym99_cuts_subactions_lists_and_config(
    tmp_path, monkeypatch, seek_gap
):
    """Clips hold exactly the annotated frames (event start + subaction
    span; a vault spans its stages; a zero-length span one frame), also
    when the cutter seeks over gaps."""
    monkeypatch.setattr(gym99_module, 'SEEK_GAP', seek_gap)
    src = _gym_download(tmp_path / 'download')
    monkeypatch.chdir(tmp_path)
    result = prepare_gym99(str(src), progress=False)
    assert _read('data/gym/annotations/gym99_train.txt') == [
        'vidA_E_000002_000008_A_0000_0001.mp4 5'
    ]
    assert _read('data/gym/annotations/gym99_val.txt') == [
        'vidA_E_000002_000008_A_0001_0002.mp4 98',
        'vidA_E_000009_000010_A_0000_0001.mp4 0',
    ]
    classes = _read('data/gym/annotations/classes.txt')
    assert len(classes) == 99 and classes[98] == '(VT) element 98'
    assert result.problems == {
        'untrimmed video not downloaded': ['vid_B_E_000001_000003_A_0000_0001']
    }
    clips = 'data/gym/subactions/'
    assert _indices(str(src / 'videos' / 'vidA.mp4')) == list(range(120))
    # 2 s + [1.0, 2.5) s: frames 30..44
    assert _indices(clips + 'vidA_E_000002_000008_A_0000_0001.mp4') == list(
        range(30, 45)
    )
    # 2 s + [3.0, 4.5) s (3 stages): frames 50..64
    assert _indices(clips + 'vidA_E_000002_000008_A_0001_0002.mp4') == list(
        range(50, 65)
    )
    # 9 s + [0.5, 0.5] s: frame 95
    assert _indices(clips + 'vidA_E_000009_000010_A_0000_0001.mp4') == [95]
    assert sorted(os.listdir(clips)) == [
        'vidA_E_000002_000008_A_0000_0001.mp4',
        'vidA_E_000002_000008_A_0001_0002.mp4',
        'vidA_E_000009_000010_A_0000_0001.mp4',
    ]
    _check_samples('gym99_rgb_8f.py', [98, 0])
    _check_samples('gym99_rgb_16f.py', [98, 0], frames=16)


def test_gym99_resumes_shrinks_and_reports_short_videos(tmp_path):
    src = _gym_download(tmp_path / 'download')
    with open(src / 'annotations' / 'gym99_val_element.txt', 'a') as f:
        f.write('vidA_E_000009_000010_A_0001_0002 3\n')
    annotation = src / 'annotations' / 'finegym_annotation_info_v1.0.json'
    ann = json.loads(annotation.read_text())
    ann['vidA']['E_000009_000010']['segments']['A_0001_0002'] = dict(
        stages=1, timestamps=[[2.5, 6.0]]
    )  # 11.5 s .. 15 s: past the end
    annotation.write_text(json.dumps(ann))
    out = tmp_path / 'out'
    result = prepare_gym99(
        str(src), str(out), short_side=24, workers=2, progress=False
    )
    problems = result.problems['clip could not be cut']
    assert len(problems) == 1 and problems[0].startswith(
        'vidA_E_000009_000010_A_0001_0002 ('
    )
    assert 'ended after frame 120' in problems[0]
    assert not any(
        n.endswith('.tmp.mp4') for n in os.listdir(out / 'subactions')
    )
    clip = str(out / 'subactions' / 'vidA_E_000002_000008_A_0000_0001.mp4')
    assert decord.VideoReader(clip)[0].shape == (24, 32, 3)
    # a second run keeps the existing clips
    before = os.stat(clip).st_mtime_ns
    prepare_gym99(str(src), str(out), short_side=24, progress=False)
    assert os.stat(clip).st_mtime_ns == before


@pytest.mark.parametrize(
    'line,problem',
    [
        ('vidA_E_000002_000008_A_0000_0001 99', 'line 1'),
        ('vidA_E_000002_000008 5', 'line 1'),
        (
            'vidA_E_000002_000008_A_0009_0009 5',
            'no timestamps for vidA_E_000002_000008_A_0009_0009',
        ),
    ],
)
def test_gym99_malformed_download(tmp_path, line, problem):
    src = _gym_download(tmp_path / 'download')
    (src / 'annotations' / 'gym99_train_element_v1.0.txt').write_text(line)
    with pytest.raises(PrepareError) as err:
        prepare_gym99(str(src), str(tmp_path / 'out'), progress=False)
    assert problem in str(err.value)


# --- the command -------------------------------------------------------------


def test_cli(tmp_path):
    src = _diving_download(tmp_path / 'download')
    out = tmp_path / 'out'
    proc = subprocess.run(
        [
            sys.executable,
            osp.join(REPO, 'tools', 'data', 'prepare_dataset.py'),
            'diving48',
            '--src',
            str(src),
            '--out',
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert 'train: 2 samples listed' in lines
    assert 'val: 1 samples listed' in lines
    assert f'train_list: {out}/diving48_train_list_videos.txt' in lines
    assert 'no video file: 1 samples (gone_00003.mp4)' in lines


def test_cli_names_a_missing_official_file(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location(
        'prepare_dataset',
        osp.join(REPO, 'tools', 'data', 'prepare_dataset.py'),
    )
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    src = _diving_download(tmp_path / 'download')
    os.remove(src / 'Diving48_vocab.json')
    assert cli.main(['diving48', '--src', str(src), '--no-progress']) == 1
    assert capsys.readouterr().err.startswith(
        'error: Diving-48 vocabulary not found: none of Diving48_vocab.json'
    )


# --- unprepared or malformed data through the configs ------------------------

PAPER_BASES = {
    'sthv1_rgb_8f.py': 'sthv1',
    'sthv1_rgb_16f.py': 'sthv1',
    'sthv2_rgb_8f.py': 'sthv2',
    'sthv2_rgb_16f.py': 'sthv2',
    'diving48_rgb_8f.py': 'diving48',
    'diving48_rgb_16f.py': 'diving48',
    'gym99_rgb_8f.py': 'gym99',
    'gym99_rgb_16f.py': 'gym99',
}


def _hint(name):
    return f'  prepare it: python tools/data/prepare_dataset.py {name} --src'


@pytest.mark.parametrize('base', sorted(PAPER_BASES))
@pytest.mark.parametrize(
    'split', ['train_dataloader', 'val_dataloader', 'test_dataloader']
)
def test_missing_annotation_file(base, split, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = Config.fromfile(osp.join(BASES, base))
    with pytest.raises(DatasetNotPreparedError) as err:
        _dataset(base, split)
    message = str(err.value)
    lines = message.splitlines()
    assert lines[0] == (
        f'annotation file {cfg[split].dataset.ann_file} '
        f'(relative to {tmp_path}) does not exist'
    )
    assert lines[1].startswith('  expected: a list file, one line "<')
    assert lines[2].startswith(_hint(PAPER_BASES[base]))
    assert lines[3].startswith('  see docs/datasets.md#')
    assert len(lines) == 4


@pytest.mark.parametrize('base', sorted(PAPER_BASES))
def test_missing_data_root(base, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = Config.fromfile(osp.join(BASES, base)).train_dataloader.dataset
    os.makedirs(osp.dirname(cfg.ann_file))
    line = 'a 10 3' if 'Rawframe' in cfg.type else 'a.mp4 3'
    (tmp_path / cfg.ann_file).write_text(line + '\n')
    with pytest.raises(DatasetNotPreparedError) as err:
        _dataset(base, 'train_dataloader')
    lines = str(err.value).splitlines()
    root = cfg.data_prefix.get('img') or cfg.data_prefix.get('video')
    assert lines[0] == (
        f'data root {root} (relative to {tmp_path}) does not exist'
    )
    assert lines[2].startswith(_hint(PAPER_BASES[base]))
    assert len(lines) == 4


def test_malformed_list_line_names_the_command(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.makedirs('data/sthv1/rawframes')
    with open('data/sthv1/sthv1_train_list_rawframes.txt', 'w') as f:
        f.write('1 10 2\n2 ten 0\n')
    with pytest.raises(AnnotationError) as err:
        _dataset('sthv1_rgb_8f.py', 'train_dataloader')
    lines = str(err.value).splitlines()
    assert lines[0].startswith(
        'data/sthv1/sthv1_train_list_rawframes.txt, line 2: total_frames '
        "'ten' is not an integer"
    )
    assert lines[1].startswith(_hint('sthv1'))
