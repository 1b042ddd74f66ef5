"""Training curves of several runs side by side (one colour per group, one
line per run), from MMEngine's vis_data/scalars.json:

    python tools/analysis/plot_curves.py --key loss --out curves.png \
        --group TCP work_dirs/a/seed0 work_dirs/a/seed1 \
        --group TSM work_dirs/b/seed0

A run is a work dir (its newest scalars.json is read) or the file itself.
"""

import argparse

from selfy_mmaction.visualization.curves import find_scalars, plot_curves


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--group',
        nargs='+',
        action='append',
        required=True,
        metavar=('LABEL', 'RUN'),
        help='a label and its runs',
    )
    parser.add_argument('--key', default='loss', help='scalar to plot')
    parser.add_argument('--out', required=True, help='PNG to write')
    parser.add_argument('--title', default='')
    parser.add_argument('--hline', type=float, help='reference value')
    parser.add_argument('--hline-label', default='')
    args = parser.parse_args(argv)
    for group in args.group:
        if len(group) < 2:
            parser.error(f'--group {group[0]} names no run')
    groups = {g[0]: [find_scalars(run) for run in g[1:]] for g in args.group}
    plot_curves(
        groups, args.key, args.out, args.title, args.hline, args.hline_label
    )
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
