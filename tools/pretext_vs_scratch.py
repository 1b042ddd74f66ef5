"""Does playback-speed pretraining help, and why not? Pretext pretraining
without labels, then the recognition recipe from scratch, from the pretext
weights, from them rescaled to their init norms, and as a linear probe, on
the 32-frame motion dataset (generated on first use into data/motion32).

    python tools/pretext_vs_scratch.py [--seeds 0 1 2] [--work-dir DIR]
        [--shared-pretext] [--pretext-epochs E]
        [--protocols VIDEOS:EPOCHS ...] [--arms scratch finetune ...]

The arms and what they test: :mod:`selfy_mmaction.benchmark.pretext`.
Every step goes through tools/train.py and is not run again when its last
checkpoint exists. Writes WORK_DIR/summary.json and prints markdown tables.
"""

import argparse

from selfy_mmaction.benchmark import pretext


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--work-dir', default='work_dirs/pretext_vs_scratch')
    parser.add_argument(
        '--shared-pretext',
        action='store_true',
        help='one pretext run (the first seed) for every seed; by default '
        'each seed pretrains its own, so the pretext run varies with it',
    )
    parser.add_argument('--pretext-epochs', type=int, default=12)
    parser.add_argument(
        '--protocols',
        nargs='+',
        default=['320:15', '40:100'],
        help='VIDEOS:EPOCHS, labelled training videos and epochs',
    )
    parser.add_argument(
        '--arms',
        nargs='+',
        choices=list(pretext.ARMS),
        default=list(pretext.ARMS),
    )
    args = parser.parse_args()
    print(pretext.report(pretext.run_comparison(args)))


if __name__ == '__main__':
    main()
