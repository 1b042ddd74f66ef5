"""Publish a trained model to the zoo: evaluate it, strip it, name it by its
hash and record it in MMAction2's model-zoo metafiles.

    python tools/publish_model.py WORK_DIR [--checkpoint CKPT] [--config CFG]
        [--out-dir zoo/] [--family NAME] [--collection NAME]
        [--training-resources "1 CPU process"] [--url-prefix URL]
        [--license Apache-2.0] [--cfg-options k=v ...]

``WORK_DIR`` is an MMEngine work dir (a ``tools/train.py`` run or
``work_dirs/benchmark_zoo/<model>/seed<k>``); run it from the repository root
(configs name their data relative to it). What it does, step by step (the
config and checkpoint looked up, stripping, ``<config stem>_<YYYYMMDD>-<first
8 hex of sha256>.pth`` naming, evaluation, FLOPs, metafile and
``model-index.yml``, URLs after an upload): :mod:`selfy_mmaction.zoo.publish`.
``python tools/zoo_tables.py --write`` then renders the README table.
"""

import argparse
import os.path as osp
import sys

from selfy_mmaction.zoo.publish import WEIGHTS_LICENSE, PublishError, publish

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def parse_args(argv=None):
    from mmengine.config import DictAction

    parser = argparse.ArgumentParser(
        description='Evaluate, strip, hash-name and record a trained model '
        'in configs/<family>/metafile.yml and model-index.yml'
    )
    parser.add_argument('work_dir', help='MMEngine work dir of the run')
    parser.add_argument(
        '--checkpoint',
        help='default: last_checkpoint, else the last epoch_*.pth',
    )
    parser.add_argument(
        '--config',
        help='repository config to publish it '
        'under (default: configs/**/<dump name>)',
    )
    parser.add_argument(
        '--out-dir',
        help='where weights and logs go (default: <repo>/zoo, ignored by git)',
    )
    parser.add_argument(
        '--family',
        help="metafile folder under configs/ (default: the config's folder)",
    )
    parser.add_argument(
        '--collection',
        help="collection name (default: the benchmark's model name, e.g. TSM)",
    )
    parser.add_argument(
        '--training-resources',
        help="e.g. '8 GPUs' (default: from the training log)",
    )
    parser.add_argument(
        '--url-prefix',
        help='Weights/Training Log become URL/<file> instead of local paths',
    )
    parser.add_argument(
        '--license',
        default=WEIGHTS_LICENSE,
        help='license of the published weights, recorded '
        'in the metafile (default: %(default)s)',
    )
    parser.add_argument(
        '--repo-root',
        default=REPO,
        help='repository whose configs/ and model-index.yml '
        'are written (default: this checkout)',
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override the training config for the evaluation, key=value',
    )
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    return publish(parse_args(argv))


if __name__ == '__main__':
    try:
        main()
    except PublishError as err:
        print(f'publish_model: {err}', file=sys.stderr)
        sys.exit(1)
