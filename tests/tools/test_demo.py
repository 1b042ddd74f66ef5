"""demo/demo.py: top-5 labels of a real test video and of a generated clip
with a published checkpoint (MMAction2's init_recognizer /
inference_recognizer)."""

import importlib.util
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config

from selfy_mmaction.datasets.motion import MOTION_CLASSES

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
_spec = importlib.util.spec_from_file_location(
    'demo', osp.join(REPO, 'demo', 'demo.py')
)
demo = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(demo)

LINE = re.compile(r'^  (\S+): ([0-9.]+)$')


def _printed(capsys):
    lines = capsys.readouterr().out.splitlines()
    head = [i for i, line in enumerate(lines) if line.startswith('The top-')]
    assert head, lines
    rows = [LINE.match(line) for line in lines[head[-1] + 1 :]]
    assert all(rows), lines
    return [(m.group(1), float(m.group(2))) for m in rows]


def _reference_scores(published, video):
    """Probabilities of the same clip through the Runner's test path
    (the config's own dataset pipeline and ``test_step``)."""
    from mmaction.apis import init_recognizer
    from mmengine.dataset import Compose, pseudo_collate

    cfg = Config.fromfile(published['config'])
    model = init_recognizer(cfg, published['weights'], device='cpu')
    pipeline = Compose(cfg.test_dataloader.dataset.pipeline)
    data = pipeline(
        dict(filename=video, label=-1, start_index=0, modality='RGB')
    )
    with torch.no_grad():
        return model.test_step(pseudo_collate([data]))[0].pred_score


def test_top5_on_a_real_test_video(published_tsm, testdata_dir, capsys):
    video = osp.join(testdata_dir, 'test.mp4')
    demo.main(
        [
            video,
            published_tsm['config'],
            published_tsm['weights'],
            '--device',
            'cpu',
        ]
    )
    rows = _printed(capsys)
    assert len(rows) == 5
    labels = [label for label, _ in rows]
    assert len(set(labels)) == 5 and set(labels) <= set(MOTION_CLASSES)
    scores = _reference_scores(published_tsm, video)
    top = scores.topk(5)
    assert labels == [MOTION_CLASSES[i] for i in top.indices.tolist()]
    assert [s for _, s in rows] == pytest.approx(top.values.tolist(), abs=1e-4)


def test_top5_on_a_generated_clip_with_a_label_file(
    published_tsm, tmp_path, capsys
):
    video = osp.join(published_tsm['data'], 'videos', 'val', 'val_00000.mp4')
    labels = tmp_path / 'labels.txt'
    labels.write_text(''.join(f'class-{i}\n' for i in range(8)))
    ranked = demo.main(
        [
            video,
            published_tsm['config'],
            published_tsm['weights'],
            '--label-file',
            str(labels),
            '--top-k',
            '5',
        ]
    )
    rows = _printed(capsys)
    assert len(rows) == 5 and [r[0] for r in rows] == [r[0] for r in ranked]
    assert all(label.startswith('class-') for label, _ in rows)
    scores = [s for _, s in rows]
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= s <= 1 for s in scores)  # average_clips='prob'


def test_label_file_of_the_wrong_length_is_refused(tmp_path):
    labels = tmp_path / 'labels.txt'
    labels.write_text('a\nb\n')
    with pytest.raises(ValueError, match='has 2 names.*8 classes'):
        demo.load_labels(str(labels), 8)
    with pytest.raises(FileNotFoundError, match='nope.txt'):
        demo.load_labels(str(tmp_path / 'nope.txt'), 8)


def test_default_labels(tmp_path):
    motion = Config(
        dict(
            test_dataloader=dict(
                dataset=dict(
                    type='MotionVideoDataset',
                    ann_file=str(tmp_path / 'x' / 'val.txt'),
                    spec=dict(classes=['move_right', 'move_left']),
                )
            )
        )
    )
    # no classes.txt yet: the spec's classes
    assert demo.default_labels(motion)[0] == ['move_right', 'move_left']
    (tmp_path / 'x').mkdir()
    (tmp_path / 'x' / 'classes.txt').write_text('a\nb\n')
    assert demo.default_labels(motion) == (
        ['a', 'b'],
        str(tmp_path / 'x' / 'classes.txt'),
    )
    other = Config(
        dict(test_dataloader=dict(dataset=dict(type='VideoDataset')))
    )
    assert demo.default_labels(other) == (None, 'indices')


def test_rawframe_pipeline_reads_the_video():
    cfg = Config(
        dict(
            test_dataloader=dict(
                dataset=dict(
                    pipeline=[
                        dict(
                            type='SampleFrames',
                            clip_len=1,
                            num_clips=8,
                            test_mode=True,
                        ),
                        dict(type='RawFrameDecode'),
                        dict(type='FormatShape', input_format='NCHW'),
                    ]
                )
            )
        )
    )
    assert [t['type'] for t in demo.video_pipeline(cfg)] == [
        'DecordInit',
        'SampleFrames',
        'DecordDecode',
        'FormatShape',
    ]


def test_missing_video_is_a_clear_error(published_tsm):
    with pytest.raises(FileNotFoundError, match='no_such.mp4'):
        demo.recognize(
            '/tmp/no_such.mp4',
            published_tsm['config'],
            published_tsm['weights'],
        )
