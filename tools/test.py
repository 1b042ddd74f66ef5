"""Test (evaluate) a checkpoint with MMEngine's Runner (MMAction2's CLI).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--dump FILE]
        [--cfg-options k=v ...] [--launcher pytorch]

Checkpoints load weights-only (see ``selfy_mmaction.utils.stack``) and must
fit the model exactly (``selfy_mmaction.utils.checkpoint``).
"""

import argparse
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction

import selfy_mmaction  # noqa: F401  (registers modules)
from selfy_mmaction.datasets import DatasetNotPreparedError
from selfy_mmaction.engine import build_runner
from selfy_mmaction.utils import check_checkpoint_fits


def parse_args():
    parser = argparse.ArgumentParser(description='Test a recognizer')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs and metrics')
    parser.add_argument(
        '--dump', type=str, help='dump predictions to a pickle file'
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value (xxx=[a,b] for lists)',
    )
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher',
    )
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join(
            './work_dirs', osp.splitext(osp.basename(args.config))[0]
        )
    cfg.load_from = args.checkpoint
    if args.dump is not None:
        if not args.dump.endswith(('.pkl', '.pickle')):
            raise ValueError(f'--dump must end with .pkl, got {args.dump}')
        cfg.test_evaluator = (
            [cfg.test_evaluator]
            if isinstance(cfg.test_evaluator, dict)
            else list(cfg.test_evaluator)
        )
        cfg.test_evaluator.append(
            dict(type='DumpResults', out_file_path=args.dump)
        )
    runner = build_runner(cfg)
    # the Runner loads non-strictly: a checkpoint that does not fit would be
    # evaluated with freshly initialised layers; refuse it with a report
    check_checkpoint_fits(runner.model, args.checkpoint)
    metrics = runner.test()
    print(metrics)


if __name__ == '__main__':
    try:
        main()
    except DatasetNotPreparedError as error:  # missing data: say what to do
        sys.exit(f'error: {error}')
