"""The motion study: SELFY's claims as experiments on the motion suite.

The command line is ``tools/motion_study.py``. Every run trains one model
variant from scratch on the motion suite
(:mod:`selfy_mmaction.datasets.motion_suite`) with one shared recipe and
tests it on the held-out test split, through the zoo benchmark's child runs
(:func:`selfy_mmaction.benchmark.zoo.run_one`: one process per run, MMEngine's
``Runner``, one PyTorch thread, ``--jobs`` runs side by side). A run whose
``result.json`` holds the same recipe is never redone, so an interrupted
study resumes where it stopped.

Experiments (:data:`EXPERIMENTS`), each over the recipe's seeds:

* complementarity: TSN, TSN + SELFY (the STSS is the only temporal path),
  TSM, TSM + SELFY;
* neighbourhood: SELFY-TSM with the window's length L in {1, 3, 5} (U = V =
  9) and U = V in {3, 5, 9} (L = 5), read by speed bin;
* extraction: conv, MLP, soft-argmax;
* baselines: MSNet (correlation + flow) at SELFY's place and window, TEA,
  TDN, TAda2D;
* robustness: the complementarity and baseline models tested again under
  each corruption of :data:`CORRUPTIONS` (``MotionCorruption``).

SELFY goes after ResNet-18's ``layer1`` with stride 1, so at 64 px its STSS
sees a 16x16 map (a cell = 4 px) and a 9x9 window reaches 4 cells a frame,
the suite's fastest motion.

Writes ``study.json`` (recipe, machine, every run), ``study.md`` (tables:
mean +- sd and min-max over seeds) and ``study_speed.png``,
``study_window.png``, ``study_corruptions.png`` into ``--work-dir``; the
report is rebuilt from whatever runs exist (``--report-only``).
"""

import copy
import json
import math
import os
import os.path as osp
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional

from . import zoo

CONFIGS = zoo.CONFIGS
SUITE_BASE = osp.join(CONFIGS, '_base_', 'datasets', 'motion_suite.py')
SCHEDULE = osp.join(CONFIGS, '_base_', 'schedules', 'motion_adamw_4e.py')
TSN = osp.join(CONFIGS, 'tsn', 'tsn_r18_1x1x8-4e_motion-rgb.py')
TSM = osp.join(CONFIGS, 'tsm', 'tsm_r18_1x1x8-4e_motion-rgb.py')


def selfy_block(
    window=(5, 9, 9),
    extraction='conv',
    hidden=32,
    extraction_channels=(4, 8, 16, 16),
    integration=32,
) -> dict:
    """SELFY after ResNet-18's layer1 (64 channels), stride 1, scaled to
    the study's budget: the paper's layers with ``hidden`` = 32 STSS
    channels, extraction channels (4, 8, 16, 16) (MLP: 16, 16) and
    ``integration`` channels 32. At 64 px this adds 0.65 GFLOPs to
    TSM-R18's 1.19 per clip; the paper's sizes (128; 4, 16, 64, 64; 64) on
    the 16x16 map would add 3.21 (``zoo.complexity_of``)."""
    return dict(
        cfg=dict(
            type='SELFYBlock',
            hidden_channels=hidden,
            window=window,
            stride=1,
            extraction=extraction,
            extraction_channels=extraction_channels,
            extraction_cfg=dict(mlp_channels=(16, 16)),
            integration_channels=(integration,) * 4,
        ),
        position='after_stage',
        layers=('layer1',),
    )


def _blocks(*blocks) -> dict:
    return {'model.backbone.blocks': list(blocks)}


#: name -> (config, cfg_options); configs relative to configs/.
VARIANTS: Dict[str, tuple] = {
    'TSN': (TSN, {}),
    'TSN+SELFY': (TSN, _blocks(selfy_block())),
    'TSM': (TSM, {}),
    'SELFY-TSM': (TSM, _blocks(selfy_block())),
    'SELFY-TSM L=1': (TSM, _blocks(selfy_block((1, 9, 9)))),
    'SELFY-TSM L=3': (TSM, _blocks(selfy_block((3, 9, 9)))),
    'SELFY-TSM U=V=3': (TSM, _blocks(selfy_block((5, 3, 3)))),
    'SELFY-TSM U=V=5': (TSM, _blocks(selfy_block((5, 5, 5)))),
    'SELFY-TSM MLP': (TSM, _blocks(selfy_block(extraction='mlp'))),
    'SELFY-TSM soft-argmax': (
        TSM,
        _blocks(selfy_block(extraction='softargmax')),
    ),
    # the full window at the other modules' cost: +0.07 GFLOPs (MSNet +0.03,
    # TDN +0.17)
    'SELFY-TSM small': (
        TSM,
        _blocks(
            selfy_block(
                hidden=8, extraction_channels=(2, 2, 2, 2), integration=8
            )
        ),
    ),
    'MSNet-TSM': (
        TSM,
        _blocks(
            dict(
                cfg=dict(
                    type='MotionSqueezeBlock',
                    reduced_channels=32,
                    radius=4,
                    sigma=2.0,
                    temperature=100.0,
                ),
                position='after_stage',
                layers=('layer1',),
            )
        ),
    ),
    'TEA': (
        osp.join(CONFIGS, 'motion', 'tea-me_tsm-r18_1x1x8-4e_motion-rgb.py'),
        {},
    ),
    'TDN': (osp.join(CONFIGS, 'motion', 'tdn_r18_5x1x8-4e_motion-rgb.py'), {}),
    'TAda2D': (
        osp.join(CONFIGS, 'tada', 'tada2d_r18_1x1x8-4e_motion-rgb.py'),
        {},
    ),
}
#: experiment -> the variants it compares (shared variants run once).
EXPERIMENTS: Dict[str, List[str]] = {
    'complementarity': ['TSN', 'TSN+SELFY', 'TSM', 'SELFY-TSM'],
    'neighbourhood': [
        'SELFY-TSM L=1',
        'SELFY-TSM L=3',
        'SELFY-TSM',
        'SELFY-TSM U=V=3',
        'SELFY-TSM U=V=5',
    ],
    'extraction': ['SELFY-TSM', 'SELFY-TSM MLP', 'SELFY-TSM soft-argmax'],
    'baselines': [
        'TSM',
        'SELFY-TSM',
        'SELFY-TSM small',
        'MSNet-TSM',
        'TEA',
        'TDN',
        'TAda2D',
    ],
}
#: Variants also tested under every corruption.
ROBUSTNESS = [
    'TSN',
    'TSN+SELFY',
    'TSM',
    'SELFY-TSM',
    'MSNet-TSM',
    'TEA',
    'TDN',
    'TAda2D',
]
CORRUPTIONS = [
    (kind, severity)
    for kind in (
        'occlusion',
        'motion_blur',
        'gaussian_noise',
        'brightness',
        'frame_drop',
    )
    for severity in (1, 3, 5)
]
#: The full study's recipe (``tools/motion_study.py``).
FULL = dict(
    spec=dict(
        seed=0, test_seed=1000, num_train_per_class=60, num_test_per_class=20
    ),
    size=64,
    epochs=5,
    batch_size=8,
    seeds=[0, 1, 2],
)
#: ``--quick``: the pipeline end to end in a few minutes (CI): a tiny suite,
#: one epoch, one seed, two variants, one corruption.
QUICK = dict(
    spec=dict(
        seed=0,
        test_seed=1000,
        num_train_per_class=2,
        num_test_per_class=1,
        size=32,
    ),
    size=32,
    epochs=1,
    batch_size=4,
    seeds=[0],
    variants=['TSN', 'SELFY-TSM'],
    corruptions=[('frame_drop', 3)],
)


def study_recipe(quick: bool, work_dir: str, seeds=None, epochs=None) -> dict:
    """The shared recipe: the suite data base, the motion AdamW schedule
    and :data:`FULL` (or :data:`QUICK`)."""
    from mmengine.config import Config

    tier = copy.deepcopy(QUICK if quick else FULL)
    schedule = Config.fromfile(SCHEDULE)
    recipe = dict(
        generator='suite',
        data_base=SUITE_BASE,
        data_root=osp.join(work_dir, 'data'),
        schedule=SCHEDULE,
        lr=schedule.optim_wrapper.optimizer.lr,
        spec=tier['spec'],
        size=tier['size'],
        epochs=epochs or tier['epochs'],
        batch_size=tier['batch_size'],
        seeds=seeds or tier['seeds'],
    )
    recipe['variants'] = tier.get('variants') or list(VARIANTS)
    recipe['corruptions'] = tier.get('corruptions') or CORRUPTIONS
    return recipe


def variant_recipe(recipe: dict, name: str) -> dict:
    """The recipe of one variant's runs: its cfg_options and, for the
    :data:`ROBUSTNESS` variants, the corruptions."""
    out = {k: v for k, v in recipe.items() if k not in ('variants', 'seeds')}
    out['cfg_options'] = copy.deepcopy(VARIANTS[name][1])
    out['corruptions'] = recipe['corruptions'] if name in ROBUSTNESS else []
    return json.loads(json.dumps(out))


def _variant_dir(work_dir: str, name: str) -> str:
    return osp.join(work_dir, 'runs', name.replace(' ', '_').replace('=', ''))


def run_study(args) -> dict:
    """Run every missing (variant, seed), ``args.jobs`` at a time, then
    write the report; ``args``: ``quick``, ``work_dir``, ``jobs``,
    ``seeds``, ``epochs``, ``variants``."""
    recipe = study_recipe(args.quick, args.work_dir, args.seeds, args.epochs)
    names = args.variants or recipe['variants']
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        raise ValueError(
            f'unknown variants {unknown}; known: {list(VARIANTS)}'
        )
    os.makedirs(args.work_dir, exist_ok=True)
    zoo._prepare_data(recipe)
    # the SELFY variants (about 3x a plain run) first: both jobs stay busy
    tasks = sorted(
        [(n, s) for s in recipe['seeds'] for n in names],
        key=lambda t: 'SELFY' not in t[0],
    )
    print(
        f'motion study: {len(names)} variants x {len(recipe["seeds"])} seeds '
        f'= {len(tasks)} runs, {args.jobs} at a time (finished runs are reused)',
        flush=True,
    )
    start = time.perf_counter()
    load_start = zoo._loadavg()

    def one(task):
        name, seed = task
        config = VARIANTS[name][0]
        result = zoo._spawn(
            config,
            seed,
            variant_recipe(recipe, name),
            _variant_dir(args.work_dir, name),
        )
        return dict(result, variant=name)

    done = 0
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for result in pool.map(one, tasks):
            done += 1
            named = dict(result, name=result['variant'])
            print(zoo._summary_line(named, done, len(tasks)), flush=True)
    machine = dict(
        cpus=os.cpu_count(),
        jobs=args.jobs,
        processor=zoo._cpu_name(),
        load_start=load_start,
        load_end=zoo._loadavg(),
        wall_seconds=time.perf_counter() - start,
    )
    return write_report(args.work_dir, recipe, machine)


def collect_runs(work_dir: str, recipe: dict) -> List[dict]:
    """Every finished run under ``work_dir/runs`` with this recipe."""
    runs = []
    for name in VARIANTS:
        want = variant_recipe(recipe, name)
        for seed in recipe['seeds']:
            run_dir = zoo._run_dir(
                _variant_dir(work_dir, name), VARIANTS[name][0], seed
            )
            result = zoo.finished_result(run_dir, want)
            if result is not None:
                runs.append(dict(result, variant=name))
    return runs


# --------------------------------------------------------------------------
# Report


def _stats(values: List[float]) -> Optional[dict]:
    values = [v for v in values if v is not None and not math.isnan(v)]
    if not values:
        return None
    return dict(
        mean=statistics.mean(values),
        sd=statistics.stdev(values) if len(values) > 1 else 0.0,
        min=min(values),
        max=max(values),
        n=len(values),
    )


def _metric(run: dict, key: str, corruption: Optional[str] = None):
    metrics = (
        run['corrupted'].get(corruption, {}) if corruption else run['metrics']
    )
    return metrics.get(key)


def summarise(runs: List[dict], recipe: dict) -> Dict[str, dict]:
    """Per variant: statistics over seeds of every suite metric, and of the
    accuracy under each corruption relative to clean."""
    from selfy_mmaction.datasets.motion_suite import SPEED_BINS

    keys = [
        'acc/top1',
        'suite/translate_top1',
        'suite/interact_top1',
        'suite/direction_acc',
        'suite/speed_acc',
    ]
    keys += [f'suite/speed{k}_top1' for k in range(len(SPEED_BINS))]
    out = {}
    for name in VARIANTS:
        mine = [r for r in runs if r['variant'] == name]
        if not mine:
            continue
        row = {key: _stats([_metric(r, key) for r in mine]) for key in keys}
        row['seeds'] = sorted(r['seed'] for r in mine)
        row['train_seconds'] = _stats([r['train_seconds'] for r in mine])
        row['clips_per_s'] = _stats([r.get('train_clips_per_s') for r in mine])
        relative = {}
        for kind, severity in recipe['corruptions']:
            tag = f'{kind}:{severity}'
            relative[tag] = _stats(
                [
                    _metric(r, 'acc/top1', tag) / r['metrics']['acc/top1']
                    for r in mine
                    if tag in r['corrupted'] and r['metrics']['acc/top1'] > 0
                ]
            )
        row['relative'] = {k: v for k, v in relative.items() if v}
        out[name] = row
    return out


def _cell(stat: Optional[dict], pct: bool = True, spread: bool = False) -> str:
    """``mean ± sd`` (and ``(min–max)``) of a :func:`_stats` dict; one
    seed's value alone (it has no sd)."""
    if not stat:
        return '-'
    f = 100 if pct else 1
    if stat['n'] == 1:
        return f'{f * stat["mean"]:.1f}'
    text = f'{f * stat["mean"]:.1f} ± {f * stat["sd"]:.1f}'
    if spread:
        text += f' ({f * stat["min"]:.1f}–{f * stat["max"]:.1f})'
    return text


def _time_line(runs: List[dict], jobs: int, seeds: int) -> str:
    """What the finished runs cost, whichever invocations ran them: the sum
    of their wall times (training, test and corrupted test passes of one
    single-threaded process each), and the full study estimated from each
    variant's fastest run (the least disturbed by other load) times
    ``seeds``, both spread over ``jobs`` runs side by side (the command's
    default: one per core)."""
    timed = [r for r in runs if r.get('wall_seconds')]
    seconds = sum(r['wall_seconds'] for r in timed)
    fastest: Dict[str, float] = {}
    for r in timed:
        name = r['variant']
        fastest[name] = min(fastest.get(name, math.inf), r['wall_seconds'])
    estimate = sum(fastest.values()) * seeds
    return (
        f'All {len(runs)} finished runs together: {seconds / 3600:.2f} h of run '
        f'wall time, {seconds / 3600 / jobs:.2f} h with {jobs} side by side; '
        f"{len(fastest)} variants x {seeds} seeds at each variant's fastest run: "
        f'{estimate / 3600 / jobs:.2f} h with {jobs} side by side.'
    )


def write_report(work_dir: str, recipe: dict, machine: dict) -> dict:
    """``study.json``, ``study.md`` and the plots from the finished runs."""
    from selfy_mmaction.datasets.motion_suite import SPEED_BINS, SUITE_CLASSES

    runs = collect_runs(work_dir, recipe)
    summary = summarise(runs, recipe)
    complexity = {}
    for name in summary:
        try:
            complexity[name] = zoo.complexity_of(
                VARIANTS[name][0], variant_recipe(recipe, name)
            )
        except Exception as exc:  # reported; the accuracy still counts
            print(f'motion study: no FLOPs for {name}: {exc!r}')
    payload = dict(
        recipe=recipe,
        machine=machine,
        runs=runs,
        summary=summary,
        complexity=complexity,
    )
    with open(osp.join(work_dir, 'study.json'), 'w') as f:
        json.dump(payload, f, indent=1)
    chance = 100 / len(SUITE_CLASSES)
    bins = [f'{lo:g}–{hi:g}' for lo, hi in SPEED_BINS]
    lines = [
        '# Motion study',
        '',
        f'Recipe: {recipe["epochs"]} epochs from scratch, batch {recipe["batch_size"]}, '
        f'AdamW lr {recipe["lr"]}, {recipe["size"]} px, seeds {recipe["seeds"]}; '
        f'suite spec {recipe["spec"]}. Accuracies in %, mean ± sample sd over the '
        'finished seeds (top-1 also min–max); speed columns: top-1 of the clips whose '
        f'mover has that speed, in cells per frame. Chance top-1 {chance:.1f} %.',
        '',
        'Machine (the last invocation that trained): '
        f'{machine.get("processor")}, {machine.get("cpus")} CPUs, '
        f'{machine.get("jobs")} runs side by side; load average at start '
        f'{machine.get("load_start")}, at end {machine.get("load_end")}; wall time of '
        f'this invocation {machine.get("wall_seconds", 0) / 60:.1f} min.',
        '',
        _time_line(runs, machine.get('cpus') or 1, len(recipe['seeds'])),
    ]
    for experiment, names in EXPERIMENTS.items():
        names = [n for n in names if n in summary]
        if not names:
            continue
        lines += [
            '',
            f'## {experiment}',
            '',
            '| model | seeds | top-1 (min–max) | translations | interactions | direction '
            '| speed class | '
            + ' | '.join(f'speed {b}' for b in bins)
            + ' | GFLOPs | train s/run |',
            '|---' * (9 + len(bins)) + '|',
        ]
        for name in names:
            row = summary[name]
            gflops = complexity.get(name, {}).get('gflops')
            lines.append(
                f'| {name} | {len(row["seeds"])} | {_cell(row["acc/top1"], spread=True)} | '
                f'{_cell(row["suite/translate_top1"])} | '
                f'{_cell(row["suite/interact_top1"])} | '
                f'{_cell(row["suite/direction_acc"])} | '
                f'{_cell(row["suite/speed_acc"])} | '
                + ' | '.join(
                    _cell(row[f'suite/speed{k}_top1'])
                    for k in range(len(bins))
                )
                + f' | {"-" if gflops is None else format(gflops, ".3f")} | '
                f'{_cell(row["train_seconds"], pct=False)} |'
            )
    robust = [n for n in ROBUSTNESS if n in summary and summary[n]['relative']]
    if robust:
        tags = [f'{k}:{s}' for k, s in recipe['corruptions']]
        lines += [
            '',
            '## robustness (top-1 under corruption / clean top-1, %)',
            '',
            '| model | ' + ' | '.join(tags) + ' |',
            '|---' * (1 + len(tags)) + '|',
        ]
        for name in robust:
            rel = summary[name]['relative']
            lines.append(
                f'| {name} | '
                + ' | '.join(_cell(rel.get(t)) for t in tags)
                + ' |'
            )
    with open(osp.join(work_dir, 'study.md'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    _plot_speed(osp.join(work_dir, 'study_speed.png'), summary, bins, chance)
    _plot_window(osp.join(work_dir, 'study_window.png'), summary, bins, chance)
    if robust:
        _plot_corruptions(
            osp.join(work_dir, 'study_corruptions.png'),
            summary,
            robust,
            recipe,
        )
    return payload


def _pyplot():
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    return plt


def _speed_lines(ax, summary, names, bins, chance):
    x = list(range(len(bins)))
    for name in names:
        row = summary.get(name)
        if not row:
            continue
        stats = [row[f'suite/speed{k}_top1'] for k in x]
        ax.errorbar(
            [i for i, s in zip(x, stats) if s],
            [100 * s['mean'] for s in stats if s],
            yerr=[100 * s['sd'] for s in stats if s],
            marker='o',
            capsize=3,
            label=name,
        )
    ax.axhline(chance, color='grey', lw=0.8, ls=':')
    ax.annotate(
        f'chance {chance:.1f} %',
        (1, chance),
        xycoords=('axes fraction', 'data'),
        xytext=(-4, 3),
        textcoords='offset points',
        ha='right',
        fontsize=7,
        color='grey',
    )
    ax.set_xticks(x, bins)
    ax.set_xlabel(
        'speed of the mover (cells per frame; a cell = 1/16 of the frame)'
    )
    ax.set_ylabel('top-1 (%), mean ± sd over seeds')
    ax.set_ylim(0, 105)
    ax.grid(alpha=0.3)
    ax.legend(
        fontsize=7,
        loc='upper center',
        bbox_to_anchor=(0.5, -0.16),
        ncol=3,
        frameon=False,
    )


def _plot_speed(path, summary, bins, chance):
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.8), dpi=110)
    _speed_lines(ax, summary, EXPERIMENTS['complementarity'], bins, chance)
    ax.set_title('Accuracy by motion speed: complementarity')
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _plot_window(path, summary, bins, chance):
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.8), dpi=110, sharey=True)
    panels = [
        ('L', 'window length L (U = V = 9); SELFY-TSM: L = 5'),
        ('U=V', 'spatial window U = V (L = 5); SELFY-TSM: 9'),
    ]
    for ax, (key, title) in zip(axes, panels):
        names = [n for n in EXPERIMENTS['neighbourhood'] if f' {key}=' in n]
        _speed_lines(ax, summary, names + ['SELFY-TSM'], bins, chance)
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _plot_corruptions(path, summary, names, recipe):
    plt = _pyplot()
    kinds = list(dict.fromkeys(k for k, _ in recipe['corruptions']))
    fig, axes = plt.subplots(
        1,
        len(kinds),
        figsize=(3.2 * len(kinds), 3.6),
        dpi=110,
        sharey=True,
        squeeze=False,
    )
    for ax, kind in zip(axes[0], kinds):
        severities = [s for k, s in recipe['corruptions'] if k == kind]
        for name in names:
            rel = summary[name]['relative']
            pts = [
                (s, rel[f'{kind}:{s}'])
                for s in severities
                if f'{kind}:{s}' in rel
            ]
            if pts:
                ax.errorbar(
                    [0] + [s for s, _ in pts],
                    [100] + [100 * r['mean'] for _, r in pts],
                    yerr=[0] + [100 * r['sd'] for _, r in pts],
                    marker='o',
                    ms=3,
                    capsize=2,
                    label=name,
                )
        ax.axhline(100, color='grey', lw=0.8, ls=':')
        ax.set_title(kind.replace('_', ' '), fontsize=9)
        ax.set_xlabel('severity (0 = clean)')
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel('top-1 relative to clean (%)')
    axes[0][-1].legend(fontsize=6, loc='lower left')
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
