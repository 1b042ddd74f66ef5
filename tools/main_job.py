"""The main job on the embedded default: generate the motion dataset if it is
missing, train SELFY-TSM-R18 from scratch, test the best checkpoint, print
top-1.

    python tools/main_job.py [--config CONFIG] [--work-dir DIR]
"""
import argparse
import glob
import os.path as osp
import time

from mmengine.config import Config
from mmengine.runner import Runner

import selfy_mmaction  # noqa: F401  (repairs the stack, registers modules)

DEFAULT_CONFIG = osp.join(
    osp.dirname(osp.dirname(osp.abspath(__file__))), 'configs',
    'selfy_tsm_r18_motion.py')


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--config', default=DEFAULT_CONFIG)
    parser.add_argument('--work-dir', default='work_dirs/main_job')
    args = parser.parse_args()

    start = time.time()
    cfg = Config.fromfile(args.config)
    cfg.work_dir = args.work_dir
    Runner.from_cfg(cfg).train()

    best = sorted(glob.glob(osp.join(args.work_dir, 'best_acc_top1_*.pth')))
    if not best:
        raise RuntimeError(f'no best checkpoint in {args.work_dir}')
    test_cfg = Config.fromfile(args.config)
    test_cfg.work_dir = osp.join(args.work_dir, 'test')
    test_cfg.load_from = best[-1]
    metrics = Runner.from_cfg(test_cfg).test()
    print(f'\nmain job: {osp.basename(args.config)} on the motion dataset; '
          f'checkpoint {best[-1]}')
    print(f"main job: test top-1 = {metrics['acc/top1']:.4f}, "
          f"top-5 = {metrics['acc/top5']:.4f} "
          f'(chance 0.125; {time.time() - start:.0f} s)')


if __name__ == '__main__':
    main()
