"""Generate the embedded re-ID tracklet set (datasets/tracklets.py).

    python tools/data/generate_tracklets.py [--root data/reid_tracklets]
        [--seed 0] [--force]

The re-ID configs on the generated set (configs/mstat/*_tracklets-reid.py)
also generate it on first use; the files only depend on the spec (seed).
"""

import argparse

from selfy_mmaction.datasets.tracklets import (
    TrackletDatasetSpec,
    generate_tracklet_dataset,
)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description='Generate the re-ID tracklet set'
    )
    parser.add_argument('--root', default='data/reid_tracklets')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--force', action='store_true', help='regenerate even if present'
    )
    args = parser.parse_args(argv)
    paths = generate_tracklet_dataset(
        args.root, TrackletDatasetSpec(seed=args.seed), force=args.force
    )
    for role, path in paths.items():
        print(f'{role}: {path}')


if __name__ == '__main__':
    main()
