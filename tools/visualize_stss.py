"""Show what a SELFY block sees: the space-time self-similarity (STSS) of a
few query points of one video, and the motion it implies.

    python tools/visualize_stss.py VIDEO CONFIG CHECKPOINT --out stss.png
        [--points x,y ...] [--layer backbone.stage_blocks.layer2.0]
        [--frame t] [--temperature 0.01] [--device cpu]
        [--class-names FILE] [--cfg-options key=value ...]

What the figure shows and how it is computed:
:mod:`selfy_mmaction.visualization.stss`.
"""

import argparse
import os.path as osp
from typing import Tuple

from mmengine.config import Config, DictAction


def parse_point(text: str) -> Tuple[float, float]:
    try:
        x, y = (float(s) for s in text.split(','))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'a point is "x,y" in pixels of the input frame, got {text!r}'
        )
    return x, y


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('video', help='video file')
    parser.add_argument('config', help='recognizer config with a SELFYBlock')
    parser.add_argument(
        'checkpoint',
        help='checkpoint file ("none": the freshly initialised model)',
    )
    parser.add_argument('--out', default='stss.png', help='output PNG')
    parser.add_argument(
        '--points',
        nargs='+',
        type=parse_point,
        help='query points "x,y" in pixels of the input '
        'frame (default: the 3 cells of strongest feature '
        'change)',
    )
    parser.add_argument(
        '--layer',
        help='module name of the SELFY block, '
        'e.g. backbone.stage_blocks.layer2.0 (default: the '
        'first one)',
    )
    parser.add_argument(
        '--frame',
        type=int,
        help="frame index t among the block's T frames (default: T // 2)",
    )
    parser.add_argument(
        '--temperature',
        type=float,
        default=0.01,
        help='softmax temperature of the soft-argmax',
    )
    parser.add_argument('--class-names', help='text file, one class a line')
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        default={},
        help='override config entries',
    )
    return parser.parse_args(argv)


def main(argv=None):
    from mmaction.apis import init_recognizer

    from selfy_mmaction.visualization.stss import class_names, compute, draw

    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    checkpoint = None if args.checkpoint == 'none' else args.checkpoint
    if checkpoint is not None and not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint {checkpoint!r} does not exist')
    model = init_recognizer(cfg, checkpoint, device=args.device)
    result = compute(
        model,
        args.video,
        args.points,
        args.layer,
        args.frame,
        args.temperature,
    )
    draw(result, args.out, class_names(cfg, args.class_names))
    half = result['window'][0] // 2
    for (r, c), motion in zip(result['cells'], result['motion']):
        moves = ', '.join(
            f'dt={i - half:+d}: ({float(m[0]):+.2f}, {float(m[1]):+.2f})'
            for i, m in enumerate(motion)
            if result['valid'][i]
        )
        print(
            f'cell (row {r}, col {c}) soft-argmax (dx, dy) in cells: {moves}'
        )
    print(f'wrote {args.out} ({osp.getsize(args.out) // 1024} KB)')
    return result


if __name__ == '__main__':
    main()
