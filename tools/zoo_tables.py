"""Markdown tables of the published zoo, rendered from the metafiles.

    python tools/zoo_tables.py                  # print the tables
    python tools/zoo_tables.py --write README.md
    python tools/zoo_tables.py --check          # exit 1 + diff if README drifts

Reads every ``configs/**/metafile.yml`` (written by
``tools/publish_model.py``) and renders one table per dataset
(:mod:`selfy_mmaction.zoo.tables`). ``--write`` / ``--check`` replace /
compare the text between ``<!-- zoo-table:begin -->`` and
``<!-- zoo-table:end -->`` in the README (``--write`` defaults to README.md;
both fail with exit code 2 if the markers are missing).
"""

import argparse
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Render the zoo tables from configs/**/metafile.yml'
    )
    parser.add_argument(
        '--check',
        action='store_true',
        help='exit 1 with a diff if the README drifts',
    )
    parser.add_argument(
        '--write',
        nargs='?',
        const='README.md',
        metavar='README',
        help='replace the table in README (default README.md)',
    )
    parser.add_argument(
        '--readme',
        default=None,
        help='README for --check (default: --write or README.md)',
    )
    parser.add_argument(
        '--repo-root',
        default=REPO,
        help='where configs/ lives (default: this checkout)',
    )
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from selfy_mmaction.zoo.tables import (
        MarkersMissing,
        check,
        load_models,
        render,
        write,
    )

    root = osp.abspath(args.repo_root)

    def in_root(path):
        return path if osp.isabs(path) else osp.join(root, path)

    try:
        if args.check:
            readme = in_root(args.readme or args.write or 'README.md')
            diff = check(readme, root)
            if diff:
                sys.stdout.write(diff)
                print(
                    f'{readme} drifts from the metafiles: run '
                    f'python tools/zoo_tables.py --write '
                    f'{osp.relpath(readme, root)}',
                    file=sys.stderr,
                )
                return 1
            print(f'{readme}: zoo table up to date')
            return 0
        if args.write:
            readme = in_root(args.write)
            changed = write(readme, root)
            print(
                f'{readme}: zoo table {"updated" if changed else "unchanged"}'
            )
            return 0
    except MarkersMissing as err:
        print(err, file=sys.stderr)
        return 2
    print(render(load_models(root)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
