"""The main job on the embedded default: generate the motion dataset if it is
missing, train SELFY-TSM-R18 from scratch, test the final checkpoint, print
top-1 (the test split is the validation split, so no checkpoint is chosen on
it).

    python tools/main_job.py [--config CONFIG] [--work-dir DIR]
"""

import argparse
import os.path as osp
import time

from mmengine.config import Config

import selfy_mmaction  # noqa: F401  (registers modules)
from selfy_mmaction.engine import build_runner

DEFAULT_CONFIG = osp.join(
    osp.dirname(osp.dirname(osp.abspath(__file__))),
    'configs',
    'selfy_tsm_r18_motion.py',
)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--config', default=DEFAULT_CONFIG)
    parser.add_argument('--work-dir', default='work_dirs/main_job')
    args = parser.parse_args()

    start = time.time()
    cfg = Config.fromfile(args.config)
    cfg.work_dir = args.work_dir
    build_runner(cfg).train()

    last = osp.join(args.work_dir, 'last_checkpoint')
    if not osp.isfile(last):
        raise RuntimeError(f'no last_checkpoint in {args.work_dir}')
    with open(last) as f:
        checkpoint = f.read().strip()
    test_cfg = Config.fromfile(args.config)
    test_cfg.work_dir = osp.join(args.work_dir, 'test')
    test_cfg.load_from = checkpoint
    metrics = build_runner(test_cfg).test()
    print(
        f'\nmain job: {osp.basename(args.config)} on the motion dataset; '
        f'checkpoint {checkpoint}'
    )
    print(
        f'main job: test top-1 = {metrics["acc/top1"]:.4f}, '
        f'top-5 = {metrics["acc/top5"]:.4f} '
        f'(chance 0.125; {time.time() - start:.0f} s)'
    )


if __name__ == '__main__':
    main()
