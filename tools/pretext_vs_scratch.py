"""Does playback-speed pretraining help? Pretext pretraining without labels,
then fine-tuning, against the same recognition recipe from scratch, on the
32-frame motion dataset (generated on first use into data/motion32).

    python tools/pretext_vs_scratch.py [--seeds 0 1 2] [--work-dir DIR]
        [--pretrain-per-seed] [--pretext-epochs E]
        [--protocols VIDEOS:EPOCHS ...]

Steps (each through tools/train.py; a step whose last checkpoint exists is
not run again, so an interrupted comparison continues where it stopped):

1. pretext: ``configs/pretext/speedorder_*_motion32-pretext.py`` on all 320
   training videos (their labels replaced by the clip order), seed 0, or
   every seed with ``--pretrain-per-seed``;
2. for every protocol and seed,
   ``configs/pretext/r3d18-tiny-tgn_1x8x2-15e_motion32-rgb.py`` from scratch
   and from the pretext checkpoint (``load_from``; nothing else differs),
   trained on the first VIDEOS labelled training videos (the list interleaves
   the 8 classes, so 40 = 5 per class) for EPOCHS epochs.

Reported: the validation top-1 (96 videos) after the last epoch (no
best-epoch selection), per seed, mean and standard deviation; written to
``WORK_DIR/summary.json`` and printed as markdown tables.
"""

import argparse
import glob
import json
import os.path as osp
import statistics
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PRETEXT = osp.join(
    REPO,
    'configs',
    'pretext',
    'speedorder_r3d18-tiny-tgn_8fx4clips-12e_motion32-pretext.py',
)
SCRATCH = osp.join(
    REPO, 'configs', 'pretext', 'r3d18-tiny-tgn_1x8x2-15e_motion32-rgb.py'
)


def last_val(work_dir: str) -> dict:
    """The last validation entry of the newest run in ``work_dir``."""
    logs = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    )
    for log in reversed(logs):
        with open(log) as f:
            entries = [json.loads(line) for line in f if line.strip()]
        vals = [e for e in entries if 'acc/top1' in e]
        if vals:
            return vals[-1]
    raise RuntimeError(f'no validation result in {work_dir}')


def train(config: str, work_dir: str, seed: int, epochs: int, *options):
    """Run tools/train.py unless ``epoch_<epochs>.pth`` is there; return the
    last validation entry."""
    if not osp.exists(osp.join(work_dir, f'epoch_{epochs}.pth')):
        cmd = [
            sys.executable,
            osp.join(REPO, 'tools', 'train.py'),
            config,
            '--work-dir',
            work_dir,
            '--seed',
            str(seed),
            '--cfg-options',
            f'train_cfg.max_epochs={epochs}',
            f'train_cfg.val_interval={epochs}',
            f'param_scheduler.1.T_max={epochs}',
            f'param_scheduler.1.end={epochs}',
            *options,
        ]
        print('$', ' '.join(cmd), flush=True)
        start = time.time()
        subprocess.run(cmd, check=True, cwd=REPO, stdout=subprocess.DEVNULL)
        print(f'  done in {time.time() - start:.0f} s', flush=True)
    return last_val(work_dir)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--work-dir', default='work_dirs/pretext_vs_scratch')
    parser.add_argument(
        '--pretrain-per-seed',
        action='store_true',
        help='one pretext run per seed (default: seed 0 for all)',
    )
    parser.add_argument('--pretext-epochs', type=int, default=12)
    parser.add_argument(
        '--protocols',
        nargs='+',
        default=['320:15', '40:100'],
        help='VIDEOS:EPOCHS, labelled training videos and epochs',
    )
    args = parser.parse_args()

    pretext = {}
    for seed in args.seeds:
        pre_seed = seed if args.pretrain_per_seed else args.seeds[0]
        if pre_seed not in pretext:
            pretext[pre_seed] = train(
                PRETEXT,
                osp.join(args.work_dir, f'pretext_seed{pre_seed}'),
                pre_seed,
                args.pretext_epochs,
            )['acc/top1']

    summary = dict(
        pretext_top1=pretext, pretext_epochs=args.pretext_epochs, protocols={}
    )
    for protocol in args.protocols:
        videos, epochs = (int(v) for v in protocol.split(':'))
        rows = []
        for seed in args.seeds:
            pre_seed = seed if args.pretrain_per_seed else args.seeds[0]
            ckpt = osp.join(
                args.work_dir,
                f'pretext_seed{pre_seed}',
                f'epoch_{args.pretext_epochs}.pth',
            )
            subset = f'train_dataloader.dataset.indices={videos}'
            row = dict(seed=seed, pretext_seed=pre_seed)
            for name, extra in (
                ('scratch', []),
                ('finetune', [f'load_from={ckpt}']),
            ):
                work = osp.join(
                    args.work_dir, f'{videos}videos', f'{name}_seed{seed}'
                )
                row[name] = train(SCRATCH, work, seed, epochs, subset, *extra)[
                    'acc/top1'
                ]
            rows.append(row)
        summary['protocols'][protocol] = dict(
            rows=rows,
            **{
                key: (
                    statistics.mean(r[key] for r in rows),
                    statistics.stdev(r[key] for r in rows)
                    if len(rows) > 1
                    else float('nan'),
                )
                for key in ('scratch', 'finetune')
            },
        )
        with open(osp.join(args.work_dir, 'summary.json'), 'w') as f:
            json.dump(summary, f, indent=1)

    print(
        '\npretext val top-1 (24 orders, chance 0.042): '
        + ', '.join(f'seed {s}: {v:.4f}' for s, v in pretext.items())
    )
    for protocol, result in summary['protocols'].items():
        videos, epochs = protocol.split(':')
        print(f'\n{videos} labelled videos, {epochs} epochs: val top-1')
        print('| seed | scratch | pretext + fine-tune |')
        print('|---|---|---|')
        for r in result['rows']:
            print(
                f'| {r["seed"]} | {r["scratch"]:.4f} | {r["finetune"]:.4f} |'
            )
        print(
            f'| mean (std) | {result["scratch"][0]:.4f} '
            f'({result["scratch"][1]:.4f}) | {result["finetune"][0]:.4f} '
            f'({result["finetune"][1]:.4f}) |'
        )


if __name__ == '__main__':
    main()
