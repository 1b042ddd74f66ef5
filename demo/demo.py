"""Recognize the action in one video with a trained recognizer, through
MMAction2's ``init_recognizer`` / ``inference_recognizer``.

    python demo/demo.py VIDEO CONFIG CHECKPOINT [--label-file F]
        [--device cpu] [--top-k 5]

    # a published motion model on a generated clip
    python demo/demo.py data/motion/videos/val/val_00000.mp4 \\
        configs/tsm/tsm_r18_1x1x8-4e_motion-rgb.py zoo/<file>.pth

Prints the ``--top-k`` classes with their scores (the head's
``average_clips``: probabilities for our configs). Class names: one per line
of ``--label-file`` (line ``i`` = class ``i``); by default, for a motion
config (``MotionVideoDataset``), ``classes.txt`` beside its annotation file
(written with the dataset), else the config's ``MotionDatasetSpec`` classes;
otherwise class indices. ``CHECKPOINT`` may be a path or a URL (MMEngine
downloads it); it must fit the config's model exactly. The clip goes through
the config's test pipeline (its ``test_dataloader``'s, else
``test_pipeline``); a rawframe pipeline is switched to decoding the video
with decord.
"""

import argparse
import os.path as osp
import sys
from typing import List, Optional, Tuple

#: Transforms that open a video file.
_VIDEO_INITS = ('DecordInit', 'OpenCVInit', 'PyAVInit')


def load_labels(path: str, num_classes: int) -> List[str]:
    """One class name per line; exactly ``num_classes`` lines."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'label file {path} does not exist')
    with open(path) as f:
        labels = [line.strip() for line in f if line.strip()]
    if len(labels) != num_classes:
        raise ValueError(
            f'label file {path} has {len(labels)} names, the '
            f'model predicts {num_classes} classes (one name a '
            'line, line i = class i)'
        )
    return labels


def default_labels(cfg) -> Tuple[Optional[List[str]], str]:
    """``(names, source)`` for a motion config: the dataset's classes.txt
    if it is there, else the spec's classes; ``(None, 'indices')``
    otherwise."""
    dataset = (cfg.get('test_dataloader') or {}).get('dataset') or {}
    if dataset.get('type') != 'MotionVideoDataset':
        return None, 'indices'
    classes_txt = osp.join(
        osp.dirname(dataset.get('ann_file', '')) or '.', 'classes.txt'
    )
    if osp.isfile(classes_txt):
        with open(classes_txt) as f:
            return [line.strip() for line in f if line.strip()], classes_txt
    from selfy_mmaction.datasets.motion import MotionDatasetSpec

    spec = MotionDatasetSpec(**(dataset.get('spec') or {}))
    return list(spec.classes), "the config's MotionDatasetSpec"


def video_pipeline(cfg) -> List[dict]:
    """The config's test pipeline, opening a video file."""
    import copy

    loader = cfg.get('test_dataloader') or {}
    pipeline = (loader.get('dataset') or {}).get('pipeline') or cfg.get(
        'test_pipeline'
    )
    if not pipeline:
        raise ValueError(
            'the config has neither test_dataloader.dataset.'
            'pipeline nor test_pipeline'
        )
    pipeline = copy.deepcopy(list(pipeline))
    if not any(t['type'] in _VIDEO_INITS for t in pipeline):
        pipeline = [dict(type='DecordInit')] + [
            dict(type='DecordDecode') if t['type'] == 'RawFrameDecode' else t
            for t in pipeline
        ]
    return pipeline


def recognize(
    video: str,
    config: str,
    checkpoint: str,
    device: str = 'cpu',
    top_k: int = 5,
    label_file: Optional[str] = None,
) -> List[Tuple[str, float]]:
    """``[(label, score), ...]``, best first."""
    from mmaction.apis import inference_recognizer, init_recognizer
    from mmengine.config import Config
    from mmengine.dataset import Compose

    import selfy_mmaction  # noqa: F401  (registers, weights-only allowlist)
    from selfy_mmaction.utils import check_checkpoint_fits

    if not osp.isfile(video):
        raise FileNotFoundError(f'video {video} does not exist')
    cfg = Config.fromfile(config)
    model = init_recognizer(cfg, checkpoint, device=device)
    # init_recognizer loads non-strictly; refuse weights that do not fit
    check_checkpoint_fits(model, checkpoint)
    result = inference_recognizer(model, video, Compose(video_pipeline(cfg)))
    scores = result.pred_score.float().cpu()
    if label_file:
        labels = load_labels(label_file, len(scores))
    else:
        labels, _ = default_labels(cfg)
        if labels is not None and len(labels) != len(scores):
            labels = None
    top = scores.topk(min(top_k, len(scores)))
    return [
        (labels[i] if labels else str(i), float(s))
        for s, i in zip(top.values.tolist(), top.indices.tolist())
    ]


def parse_args(argv=None):
    import torch

    parser = argparse.ArgumentParser(
        description='Top-k action classes of a video (MMAction2 '
        'init_recognizer / inference_recognizer)'
    )
    parser.add_argument('video', help='video file')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file or URL')
    parser.add_argument('--label-file', help='class names, one a line')
    parser.add_argument(
        '--device',
        default='cuda:0' if torch.cuda.is_available() else 'cpu',
        help='cpu or cuda:N (default: cuda:0 if available)',
    )
    parser.add_argument('--top-k', type=int, default=5)
    args = parser.parse_args(argv)
    if args.top_k < 1:
        parser.error(f'--top-k must be >= 1, got {args.top_k}')
    return args


def main(argv=None) -> List[Tuple[str, float]]:
    args = parse_args(argv)
    ranked = recognize(
        args.video,
        args.config,
        args.checkpoint,
        args.device,
        args.top_k,
        args.label_file,
    )
    print(f'The top-{len(ranked)} labels with their scores for {args.video}:')
    for label, score in ranked:
        print(f'  {label}: {score:.4f}')
    return ranked


if __name__ == '__main__':
    try:
        main()
    except (FileNotFoundError, ValueError) as err:
        print(f'demo: {err}', file=sys.stderr)
        sys.exit(1)
