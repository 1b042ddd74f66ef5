"""Side-by-side motion benchmark: every zoo model on the embedded motion
dataset with one shared recipe; a table, a plot and the raw numbers.

    python tools/benchmark_zoo.py                  # TSN, TSM, SELFY-TSM
    python tools/benchmark_zoo.py --baselines      # + the paper's baselines
    python tools/benchmark_zoo.py --all            # every motion recognizer
    python tools/benchmark_zoo.py --quick          # CI smoke test
    python tools/benchmark_zoo.py --configs A.py B.py --seeds 0 1 2
    python tools/benchmark_zoo.py --report-only    # redo table + plot

The recipe, the runs (one process each) and what is measured are described
in :mod:`selfy_mmaction.benchmark.zoo`. Writes ``benchmark.md``,
``benchmark.png`` (top-1 against GFLOPs) and ``benchmark.json`` (recipe,
machine, every run) into ``--work-dir``.
"""

import argparse
import json
import os
import os.path as osp

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
SCHEDULE_BASE = osp.join(
    REPO, 'configs', '_base_', 'schedules', 'motion_adamw_4e.py'
)


def parse_args(argv=None):
    from mmengine.config import DictAction

    parser = argparse.ArgumentParser(
        description='Train every zoo model on the motion dataset with one '
        'recipe; write benchmark.md/.png/.json'
    )
    parser.add_argument(
        '--configs', nargs='+', help='configs to run (default: DEFAULT_MODELS)'
    )
    parser.add_argument(
        '--baselines',
        action='store_true',
        help='add STM, MSNet, TAda2D, TEA and TDN',
    )
    parser.add_argument(
        '--all',
        action='store_true',
        help='every configs/**/*motion*.py recognizer',
    )
    parser.add_argument(
        '--work-dir',
        default=None,
        help='default work_dirs/benchmark_zoo[_quick]',
    )
    parser.add_argument('--seeds', type=int, nargs='+')
    parser.add_argument('--epochs', type=int)
    parser.add_argument('--size', type=int, help='input resolution (px)')
    parser.add_argument('--batch-size', type=int)
    parser.add_argument('--lr', type=float)
    parser.add_argument(
        '--schedule',
        default=SCHEDULE_BASE,
        help='schedule config giving optimizer, lr schedule '
        'and epochs to every model',
    )
    parser.add_argument(
        '--spec',
        nargs='+',
        action=DictAction,
        help='MotionDatasetSpec fields, key=value',
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='config overrides applied to every model after '
        'the recipe, key=value (as in tools/train.py)',
    )
    parser.add_argument(
        '--jobs',
        type=int,
        default=os.cpu_count() or 1,
        help='runs side by side (one thread each)',
    )
    parser.add_argument(
        '--quick',
        action='store_true',
        help='tiny dataset, 1 seed, 1 epoch, 3 models',
    )
    parser.add_argument(
        '--report-only',
        action='store_true',
        help='rewrite table and plot from benchmark.json',
    )
    parser.add_argument('--child', help=argparse.SUPPRESS)
    parser.add_argument('--child-seed', type=int, help=argparse.SUPPRESS)
    parser.add_argument('--child-recipe', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.work_dir is None:
        args.work_dir = osp.join(
            REPO,
            'work_dirs',
            'benchmark_zoo_quick' if args.quick else 'benchmark_zoo',
        )
    args.work_dir = osp.abspath(args.work_dir)
    return args


def main(argv=None):
    args = parse_args(argv)
    from selfy_mmaction.benchmark import zoo

    if args.child:  # a run spawned by an earlier version of this tool
        zoo.run_one(
            args.child,
            args.child_seed,
            json.loads(args.child_recipe),
            args.work_dir,
        )
        return
    if args.report_only:
        print(zoo.rewrite_reports(args.work_dir))
        return
    zoo.benchmark(args)
    with open(osp.join(args.work_dir, 'benchmark.md')) as f:
        print(f.read())


if __name__ == '__main__':
    main()
