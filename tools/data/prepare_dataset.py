"""Turn the official download of a paper dataset into what our configs read.

    python tools/data/prepare_dataset.py sthv1 --src DOWNLOAD \\
        [--out data/sthv1] [--mode symlink|copy]
    python tools/data/prepare_dataset.py sthv2 --src DOWNLOAD \\
        [--out data/sthv2] [--mode symlink|copy]
    python tools/data/prepare_dataset.py diving48 --src DOWNLOAD \\
        [--out data/diving48] [--mode symlink|copy]
    python tools/data/prepare_dataset.py gym99 --src DOWNLOAD [--out data/gym]
        [--short-side 0] [--workers 1]
    python tools/data/prepare_dataset.py mars --src DOWNLOAD [--out data/mars]
        [--mode symlink|copy]

DOWNLOAD is the folder holding the official files (see docs/datasets.md for
each dataset's files, the layout written and the caveats). Samples with a
problem (e.g. a video missing from the download: left out of the lists) are
counted and the first few named; a missing or malformed official file stops
with its name (exit 1).
"""

import argparse
import sys

from selfy_mmaction.datasets.prepare import (
    PLACE_MODES,
    PREPARERS,
    PrepareError,
)

DEFAULT_OUT = dict(
    sthv1='data/sthv1',
    sthv2='data/sthv2',
    diving48='data/diving48',
    gym99='data/gym',
    mars='data/mars',
)
#: Sample ids printed per problem.
SHOW_SAMPLES = 5


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Prepare a paper dataset from its official download'
    )
    parser.add_argument('dataset', choices=sorted(PREPARERS))
    parser.add_argument(
        '--src', required=True, help='folder of the official download'
    )
    parser.add_argument(
        '--out',
        help="output folder (default: the configs' data/sthv1, data/sthv2, "
        'data/diving48, data/gym, data/mars)',
    )
    parser.add_argument(
        '--mode',
        choices=PLACE_MODES,
        default='symlink',
        help='sthv1/sthv2/diving48: link the official frame/video folder '
        'into --out, or copy the listed samples; mars: link or copy each '
        'image (default: symlink)',
    )
    parser.add_argument(
        '--short-side',
        type=int,
        default=0,
        help='gym99: shrink the cut clips to this short side (default 0: '
        'keep the source size)',
    )
    parser.add_argument(
        '--workers',
        type=int,
        default=1,
        help='gym99: untrimmed videos cut in parallel (default 1)',
    )
    parser.add_argument(
        '--no-progress', action='store_true', help='no progress bars'
    )
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    out = args.out or DEFAULT_OUT[args.dataset]
    kwargs = dict(progress=not args.no_progress)
    if args.dataset == 'gym99':
        kwargs.update(short_side=args.short_side, workers=args.workers)
    else:
        kwargs.update(mode=args.mode)
    try:
        result = PREPARERS[args.dataset](args.src, out, **kwargs)
    except PrepareError as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    for split, count in result.counts.items():
        print(f'{split}: {count} samples listed')
    for role, path in result.files.items():
        print(f'{role}: {path}')
    for problem, samples in result.problems.items():
        shown = ', '.join(samples[:SHOW_SAMPLES])
        more = (
            f' and {len(samples) - SHOW_SAMPLES} more'
            if len(samples) > SHOW_SAMPLES
            else ''
        )
        print(f'{problem}: {len(samples)} samples ({shown}{more})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
