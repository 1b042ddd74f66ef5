"""FLOPs (multiply-accumulates) and parameters of one clip through backbone
and head, with the local-correlation cost that mmengine cannot see.

    python tools/analysis/get_flops.py CONFIG [--shape T 3 H W | H W | S]
    python tools/analysis/get_flops.py --all [--root configs]

The counting (mmengine's FlopAnalyzer on ``extract_feat(stage='head')`` of
one clip, local correlations counted analytically, pretrained weights
switched off) is :mod:`selfy_mmaction.analysis.complexity`; its docstring
says how each layer is counted.

``--all`` measures every config under ``--root`` (``_base_`` skipped; configs
that only change the test protocol share their training config's row) and
prints a markdown table beside the numbers the papers report
(:mod:`selfy_mmaction.analysis.paper_numbers`, with sources). It builds and
traces every model: minutes.

MMAction2's own ``tools/analysis_tools/get_flops.py`` (in a source checkout,
or ``<site-packages>/mmaction/.mim/tools/analysis_tools/``) also works with
our configs: ``custom_imports`` loads the plugin and it builds the model
without loading weights. Its FLOPs are the backbone's only (it traces
``extract_feat``, so the head is never called) while its parameters include
the head; it counts the correlation as our op runs it (dense products on
small maps). It needs the clip's frames as ``--shape``: its default
``224 224`` is a single image, which our segment-checking backbones refuse:
``python .../get_flops.py CONFIG --shape 8 3 224 224`` (5 x 8 = 40 frames for
TDN and EAN, 24 for BQN). Conventions and the papers' numbers:
docs/paper_numbers.md.
"""

import argparse
import os.path as osp

from mmengine.config import Config, DictAction

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='FLOPs and params of one clip (backbone + head), '
        'local correlations counted analytically'
    )
    parser.add_argument('config', nargs='?', help='config file')
    parser.add_argument(
        '--shape',
        type=int,
        nargs='+',
        help='recognizer input without the batch: T 3 H W, or H W / S '
        '(frames from the config)',
    )
    parser.add_argument(
        '--all', action='store_true', help='table of every config in --root'
    )
    parser.add_argument(
        '--root',
        default=osp.join(REPO, 'configs'),
        help='configs folder for --all',
    )
    parser.add_argument(
        '--table',
        action='store_true',
        help="print mmengine's per-module table too",
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config keys, as in tools/train.py',
    )
    args = parser.parse_args(argv)
    if not args.all and not args.config:
        parser.error('give a CONFIG or --all')
    return args


def _fmt(value, digits=2):
    return '-' if value is None else f'{value:.{digits}f}'


def main(argv=None):
    args = parse_args(argv)
    from selfy_mmaction.analysis.complexity import (
        complexity,
        input_shape_from,
        measure_all,
        paper_entry,
    )

    if args.all:
        measure_all(args.root)
        return
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    res = complexity(cfg, input_shape_from(cfg, args.shape))
    if args.table:
        from mmengine.analysis.print_helper import complexity_stats_table

        print(complexity_stats_table(res['analyzer'], max_depth=4))
    paper = paper_entry(args.config, cfg) or {}
    print(
        f'config:       {args.config}\n'
        f'input:        {res["input_shape"]} (one clip, one crop)\n'
        f'mmengine:     {res["flops"] / 1e9:.3f} GFLOPs (backbone + head, '
        'correlation excluded)\n'
        f'correlation:  {res["correlation"] / 1e9:.3f} G multiply-adds '
        '(analytic)\n'
        f'total:        {res["total"] / 1e9:.3f} GFLOPs\n'
        f'params:       {res["params"] / 1e6:.3f} M (backbone + head)\n'
        f'paper:        {_fmt(paper.get("gflops"), 1)} GFLOPs, '
        f'{_fmt(paper.get("params"))} M params '
        f'({paper.get("source", "no entry")})'
    )


if __name__ == '__main__':
    main()
