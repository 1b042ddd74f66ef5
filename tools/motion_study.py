"""The motion study: SELFY's claims as experiments on the motion suite.

    python tools/motion_study.py                 # the full study (3 seeds)
    python tools/motion_study.py --quick         # CI tier: minutes
    python tools/motion_study.py --variants TSM SELFY-TSM --seeds 0
    python tools/motion_study.py --report-only   # tables and plots again
    python tools/motion_study.py --docs          # also copy them to docs/

Resumable: a run that finished with the same recipe is never redone. The
experiments, the recipe and what is measured are described in
:mod:`selfy_mmaction.benchmark.study`.
"""

import argparse
import json
import os
import os.path as osp
import shutil

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
OUTPUTS = [
    'study.md',
    'study_speed.png',
    'study_window.png',
    'study_corruptions.png',
]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Train the motion-study variants on the motion suite; '
        'write study.md/.json and plots'
    )
    parser.add_argument(
        '--quick',
        action='store_true',
        help='tiny suite, 1 seed, 1 epoch, 2 variants',
    )
    parser.add_argument(
        '--variants', nargs='+', help='names of VARIANTS (default: all)'
    )
    parser.add_argument('--seeds', type=int, nargs='+')
    parser.add_argument('--epochs', type=int)
    parser.add_argument(
        '--jobs',
        type=int,
        default=os.cpu_count() or 1,
        help='runs side by side (one thread each)',
    )
    parser.add_argument(
        '--work-dir', help='default work_dirs/motion_study[_quick]'
    )
    parser.add_argument(
        '--report-only',
        action='store_true',
        help='rebuild the report from finished runs',
    )
    parser.add_argument(
        '--docs',
        action='store_true',
        help='copy study.md and the plots to docs/',
    )
    args = parser.parse_args(argv)
    if args.work_dir is None:
        name = 'motion_study_quick' if args.quick else 'motion_study'
        args.work_dir = osp.join(REPO, 'work_dirs', name)
    args.work_dir = osp.abspath(args.work_dir)
    return args


def main(argv=None):
    args = parse_args(argv)
    path = osp.join(args.work_dir, 'study.json')
    if args.report_only and not osp.exists(path):
        raise SystemExit(
            f'motion study: no {path}: --report-only redraws a study that '
            'has run; run `python tools/motion_study.py` with this '
            '--work-dir first'
        )
    from selfy_mmaction.benchmark import study

    if args.report_only:
        with open(path) as f:
            old = json.load(f)
        study.write_report(args.work_dir, old['recipe'], old['machine'])
    else:
        study.run_study(args)
    with open(osp.join(args.work_dir, 'study.md')) as f:
        print(f.read())
    if args.docs:
        for name in OUTPUTS:
            src = osp.join(args.work_dir, name)
            if osp.exists(src):
                shutil.copy(
                    src,
                    osp.join(
                        REPO,
                        'docs',
                        'motion_' + name,
                    ),
                )


if __name__ == '__main__':
    main()
