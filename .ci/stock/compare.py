"""Run MMAction2 v1.2.0's own tests twice, without and with ``selfy_mmaction``
imported, and fail if any test's outcome differs.

    python .ci/stock/compare.py [--stock DIR] [--out DIR] [PATHS ...]

PATHS are relative to the stock ``tests/`` folder (default: backbones, heads,
recognizers and data transforms). Failures of the stock stack itself (missing
optional packages, no network, numpy 2) are allowed when they fail the same
way both times. Exit 1 on any difference, 2 when the stock tree is missing.
"""

import argparse
import os
import os.path as osp
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(HERE))
DEFAULT_STOCK = osp.join(
    osp.dirname(REPO), 'shared', 'thirdparty', 'mmaction2-1.2.0'
)
DEFAULT_PATHS = [
    'models/backbones',
    'models/heads',
    'models/recognizers',
    'datasets/transforms',
]


def outcomes(junit_file):
    """{test id: (outcome, first line of the failure message)}."""
    results = {}
    for case in ET.parse(junit_file).getroot().iter('testcase'):
        test_id = f'{case.get("classname")}::{case.get("name")}'
        outcome, message = 'passed', ''
        for tag in ('failure', 'error', 'skipped'):
            node = case.find(tag)
            if node is not None:
                outcome = tag
                message = (node.get('message') or '').strip().splitlines()
                message = message[0][:200] if message else ''
                break
        results[test_id] = (outcome, message)
    return results


def run(stock, paths, junit_file, with_plugin):
    env = dict(
        os.environ,
        SELFY_IMPORT='1' if with_plugin else '0',
        PYTHONPATH=os.pathsep.join(
            [HERE, os.environ.get('PYTHONPATH', '')]
        ).rstrip(os.pathsep),
    )
    cmd = [
        sys.executable,
        '-m',
        'pytest',
        '-q',
        '-p',
        'stock_harness',
        '-p',
        'no:cacheprovider',
        '--continue-on-collection-errors',
        f'--stock-configs={stock}/configs',
        f'--junitxml={junit_file}',
        '-o',
        'addopts=',
        '--rootdir',
        stock,
        *[osp.join(stock, 'tests', p) for p in paths],
    ]
    start = time.perf_counter()
    proc = subprocess.run(
        cmd,
        cwd=stock if os.access(stock, os.W_OK) else REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    tail = proc.stdout.strip().splitlines()[-1:] or ['(no output)']
    label = 'with' if with_plugin else 'without'
    print(
        f'{label} selfy_mmaction: {tail[0]} '
        f'({time.perf_counter() - start:.0f} s)',
        flush=True,
    )
    if not osp.exists(junit_file):
        print(proc.stdout[-3000:], proc.stderr[-3000:])
        raise SystemExit(f'pytest wrote no report ({label} the plugin)')
    return outcomes(junit_file)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('paths', nargs='*', default=DEFAULT_PATHS)
    parser.add_argument('--stock', default=DEFAULT_STOCK)
    parser.add_argument(
        '--out', default=osp.join(REPO, 'work_dirs', 'stock_tests')
    )
    args = parser.parse_args()
    if not osp.isdir(osp.join(args.stock, 'tests')):
        print(f'MMAction2 v1.2.0 tests not found at {args.stock}')
        return 2
    os.makedirs(args.out, exist_ok=True)
    without = run(
        args.stock, args.paths, osp.join(args.out, 'without.xml'), False
    )
    with_ = run(args.stock, args.paths, osp.join(args.out, 'with.xml'), True)
    differ = sorted(
        t
        for t in without.keys() | with_.keys()
        if without.get(t) != with_.get(t)
    )
    counts = {}
    for outcome, _ in without.values():
        counts[outcome] = counts.get(outcome, 0) + 1
    print(
        f'{len(without)} stock tests; outcomes without the plugin: '
        + ', '.join(f'{n} {k}' for k, n in sorted(counts.items()))
    )
    if differ:
        print(f'{len(differ)} tests differ with selfy_mmaction imported:')
        for test in differ:
            print(
                f'  {test}\n    without: {without.get(test)}\n'
                f'    with:    {with_.get(test)}'
            )
        return 1
    print('identical outcomes with and without selfy_mmaction imported')
    return 0


if __name__ == '__main__':
    sys.exit(main())
