"""Side-by-side motion benchmark: every zoo model on the embedded motion
dataset with one shared recipe; a table, a plot and the raw numbers.
The command line is ``tools/benchmark_zoo.py``.

Models: by default TSN, TSM and SELFY-TSM (3 seeds fit the 30-minute budget
of a 2-core CPU); ``--baselines`` adds the SELFY paper's motion baselines
(STM, MSNet, TAda2D, TEA, TDN), each family's motion config
(:data:`BASELINE_MODELS`; a missing one is skipped with a message). ``--all``:
every ``configs/**/*motion*.py`` (``_base_``, pretext and ``load_from``
configs left out). Two configs that build the same model run once.

The shared recipe is the motion bases: the schedule
(``configs/_base_/schedules/motion_adamw_4e.py``: optimizer, lr schedule,
epochs) and the data (``configs/_base_/datasets/motion_tiny.py``: dataset
spec, augmentation, batch size) replace whatever a model config says; a model
keeps only its frame sampler and input format (TDN's 5 frames per segment).
Every run trains from scratch with ``randomness.seed`` = the seed (the
dataset itself is the same for every seed) and is tested on the val split
with the final weights (no checkpoint selection on the test set), which are
saved as ``WORK_DIR/<model>/seed<k>/epoch_<E>.pth`` for
``tools/publish_model.py``.

Each (model, seed) runs in its own process (``python -m
selfy_mmaction.benchmark.zoo CONFIG SEED RECIPE_JSON RUN_DIR``) through
MMEngine's ``Runner`` (one
log per run under ``WORK_DIR/<model>/seed<k>/``), with one PyTorch thread;
``--jobs`` processes run side by side (default: the number of CPU cores:
small convolutions scale badly over threads, so one job per core trains more
clips per second in total than one job on all cores).

Measured per run (``AccMetric`` and
:class:`~selfy_mmaction.evaluation.MotionPairMetric` on the test run): top-1;
pair accuracy (the predicted class is in the true
time-reversal pair; chance 25%); direction accuracy (of the two classes of the
true pair, the true one scores higher; chance 50%, the ceiling of any
frame-order-invariant model such as TSN); training throughput (clips/s over
the training iterations, data loading excluded); peak RSS of the run's process
(``resource.getrusage``, ``ru_maxrss``); inference latency of one clip
(median of 10 ``test_step`` calls, batch 1). Per model, once: GFLOPs (one
clip at the benchmark resolution, multiply-adds, local correlations counted
analytically by :mod:`selfy_mmaction.analysis.complexity`) and parameters.

Writes ``benchmark.md``, ``benchmark.png`` (top-1 against GFLOPs) and
``benchmark.json`` (recipe, machine, every run) into ``--work-dir``.
"""

import copy
import glob
import json
import os
import os.path as osp
import platform
import resource
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional

from ..analysis.complexity import clip_complexity

#: The repository holding ``configs/`` (the package is used from its
#: checkout: the benchmark trains the repository's configs).
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = osp.join(REPO, 'configs')
SCHEDULE_BASE = osp.join(CONFIGS, '_base_', 'schedules', 'motion_adamw_4e.py')
DATA_BASE = osp.join(CONFIGS, '_base_', 'datasets', 'motion_tiny.py')
#: Shown first, in this order; everything else follows sorted by path.
LEADING = [
    osp.join(CONFIGS, 'tsn', 'tsn_r18_1x1x8-4e_motion-rgb.py'),
    osp.join(CONFIGS, 'tsm', 'tsm_r18_1x1x8-4e_motion-rgb.py'),
    osp.join(CONFIGS, 'selfy_tsm_r18_motion.py'),
]
#: The default benchmark: the order-invariant TSN, TSM and SELFY-TSM, each
#: the first existing config of its patterns (relative to configs/).
DEFAULT_MODELS = [
    ('TSN', ['tsn/tsn_r18_1x1x8-4e_motion-rgb.py']),
    ('TSM', ['tsm/tsm_r18_1x1x8-4e_motion-rgb.py']),
    ('SELFY-TSM', ['selfy_tsm_r18_motion.py']),
]
#: ``--baselines``: the motion baselines of the SELFY paper (a family's own
#: directory first).
BASELINE_MODELS = [
    ('STM', ['stm/*motion*.py', 'motion/stm*motion*.py']),
    ('MSNet', ['msnet/*motion*.py', 'motion/msnet*motion*.py']),
    ('TAda2D', ['tada/*motion*.py', 'motion/tada*motion*.py']),
    ('TEA', ['tea/*motion*.py', 'motion/tea*motion*.py']),
    ('TDN', ['tdn/*motion*.py', 'motion/tdn*motion*.py']),
]
#: Display names by the config name's first ``_``-separated token.
NAMES = {
    'tsn': 'TSN',
    'tsm': 'TSM',
    'selfy': 'SELFY-TSM',
    'stm': 'STM',
    'msnet': 'MSNet',
    'ms': 'MSNet',
    'tada': 'TAda2D',
    'tada2d': 'TAda2D',
    'tea': 'TEA',
    'tdn': 'TDN',
    'eca': 'ECA-TSM',
    'stsm': 'STSM',
    'p3d': 'P3D',
    'cost-a': 'CoST(a)',
    'cost-b': 'CoST(b)',
    'r2plus1d': 'R(2+1)D',
    'r2plus1d-2d': 'R(2+1)D-2D',
    'r3d18-tiny-tgn': 'R3D-18-tiny',
    'tea-me': 'TEA (ME)',
}
#: ``--quick``: a tiny dataset, one seed, one epoch, the leading models.
QUICK = dict(
    spec=dict(
        seed=0,
        num_train_per_class=3,
        num_val_per_class=2,
        num_frames=8,
        size=32,
    ),
    size=32,
    epochs=1,
    seeds=[0],
)
DEFAULT_SEEDS = [0, 1, 2]


def display_name(path: str) -> str:
    """The model name of a config path in tables (first token of its file name)."""
    token = osp.basename(path).split('_')[0].lower()
    return NAMES.get(token, token)


def default_configs(root: str = CONFIGS, baselines: bool = False) -> List[str]:
    """The configs of :data:`DEFAULT_MODELS` (and :data:`BASELINE_MODELS`)
    that exist (a message for each family without one)."""
    out = []
    models = DEFAULT_MODELS + (BASELINE_MODELS if baselines else [])
    for name, patterns in models:
        for pattern in patterns:
            found = sorted(glob.glob(osp.join(root, pattern)))
            if found:
                out.append(found[0])
                break
        else:
            print(
                f'benchmark: skipping {name} (no config matches '
                f'{patterns} under {osp.relpath(root, REPO)}/)'
            )
    return out


def discover_configs(root: str = CONFIGS) -> List[str]:
    """TSN, TSM, SELFY-TSM, then every other ``*motion*.py`` under
    ``root``. Left out: ``_base_``, pretext (self-supervised) configs and
    configs that load weights (``load_from``): the benchmark compares
    recognizers trained from scratch."""
    from mmengine.config import Config

    found = []
    for p in sorted(
        glob.glob(osp.join(root, '**', '*motion*.py'), recursive=True)
    ):
        if '_base_' in p.split(osp.sep):
            continue
        if 'pretext' in osp.basename(p):
            print(
                f'benchmark: skipping {osp.relpath(p, REPO)} (pretext '
                'task, not a recognizer of the motion classes)'
            )
            continue
        if Config.fromfile(p).get('load_from'):
            print(
                f'benchmark: skipping {osp.relpath(p, REPO)} (load_from: '
                'not trained from scratch)'
            )
            continue
        found.append(p)
    leading = [p for p in LEADING if osp.exists(p)]
    for p in LEADING:
        if not osp.exists(p):
            print(f'benchmark: skipping {osp.relpath(p, REPO)} (missing)')
    return leading + [p for p in found if p not in leading]


# --------------------------------------------------------------------------
# The shared recipe


def _find(pipeline: List[dict], kind: str) -> Optional[dict]:
    """First transform of type ``kind``."""
    for t in pipeline:
        if t['type'] == kind:
            return t
    return None


def _sampler(pipeline: List[dict]) -> Optional[dict]:
    """The frame sampler: ``SampleFrames``, ``UniformSample``,
    ``DenseSampleFrames`` ..."""
    for t in pipeline:
        if 'Sample' in t['type']:
            return t
    return None


def _pipeline(base: List[dict], own: List[dict], size: int) -> List[dict]:
    """The base pipeline with the model's own frame sampler and input
    format, resized to ``size``."""
    out = []
    own = own or []
    for t in copy.deepcopy(base):
        if 'Sample' in t['type'] and _sampler(own) is not None:
            t = copy.deepcopy(_sampler(own))
        elif t['type'] == 'FormatShape' and _find(own, 'FormatShape'):
            t = copy.deepcopy(_find(own, 'FormatShape'))
        if t['type'] == 'Resize':
            t['scale'] = (size, size)
        out.append(t)
    return out


def apply_recipe(cfg, recipe: dict, work_dir: str, seed: int):
    """Replace schedule and data settings of ``cfg`` (an mmengine Config)
    by the shared recipe; keep the model."""
    from mmengine.config import Config

    schedule = Config.fromfile(recipe['schedule'])
    data = Config.fromfile(recipe.get('data_base', DATA_BASE))
    for key in (
        'train_cfg',
        'test_cfg',
        'param_scheduler',
        'optim_wrapper',
        'auto_scale_lr',
    ):
        cfg[key] = copy.deepcopy(schedule[key])
    epochs = recipe['epochs']
    cfg.train_cfg['max_epochs'] = epochs
    for sched in cfg.param_scheduler:
        if sched.get('type') == 'CosineAnnealingLR':
            sched['T_max'] = epochs - sched.get('begin', 0)
            sched['end'] = epochs
    if recipe.get('lr') is not None:
        cfg.optim_wrapper.optimizer['lr'] = recipe['lr']
    if recipe.get('cfg_options'):
        cfg.merge_from_dict(recipe['cfg_options'])
    spec = recipe['spec']
    ann = {
        'train': osp.join(
            recipe['data_root'], osp.basename(data.ann_file_train)
        ),
        'test': osp.join(
            recipe['data_root'],
            osp.basename(data.get('ann_file_test', data.ann_file_val)),
        ),
    }
    if data.get('num_classes'):
        cfg.model.cls_head['num_classes'] = data.num_classes
    for split, base_key in (
        ('train', 'train_dataloader'),
        ('test', 'test_dataloader'),
    ):
        own = cfg.get(base_key, {}).get('dataset', {}).get('pipeline')
        loader = copy.deepcopy(data[base_key])
        loader.update(num_workers=0, persistent_workers=False)
        if recipe.get('batch_size'):
            loader['batch_size'] = recipe['batch_size']
        loader['dataset'].update(
            ann_file=ann[split],
            spec=spec,
            data_prefix=dict(video=osp.join(recipe['data_root'], 'videos')),
            pipeline=_pipeline(
                loader['dataset']['pipeline'], own, recipe['size']
            ),
        )
        cfg[base_key] = loader
    # no validation while training: the test below is the only evaluation
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.train_cfg['val_interval'] = epochs + 1
    cfg.test_evaluator = copy.deepcopy(data.test_evaluator)
    cfg.default_hooks['checkpoint'] = dict(
        type='CheckpointHook', interval=-1, save_last=True
    )
    cfg.default_hooks['logger'] = dict(type='LoggerHook', interval=5)
    cfg.randomness = dict(seed=seed, deterministic=False)
    cfg.work_dir = work_dir
    cfg.load_from = None
    cfg.resume = False
    return cfg


def shared_recipe(args) -> dict:
    """Recipe of this benchmark run (the bases, unless overridden).

    ``args``: the options of ``tools/benchmark_zoo.py`` (an
    ``argparse.Namespace``): ``schedule``, ``quick``, ``size``, ``epochs``,
    ``batch_size``, ``lr``, ``seeds``, ``cfg_options``, ``spec`` (None where
    not given) and ``work_dir``."""
    from mmengine.config import Config

    data = Config.fromfile(DATA_BASE)
    schedule = Config.fromfile(args.schedule)
    resize = _find(data.train_dataloader.dataset.pipeline, 'Resize')
    recipe = dict(
        spec=dict(data.motion_spec),
        size=resize['scale'][0],
        epochs=schedule.train_cfg.max_epochs,
        batch_size=data.train_dataloader.batch_size,
        lr=schedule.optim_wrapper.optimizer.lr,
        data_root=osp.join(REPO, 'data', 'motion'),
        schedule=osp.abspath(args.schedule),
        seeds=list(DEFAULT_SEEDS),
    )
    if args.quick:
        recipe.update(copy.deepcopy(QUICK))
    for key in ('size', 'epochs', 'batch_size', 'lr', 'seeds', 'cfg_options'):
        if getattr(args, key, None) is not None:
            recipe[key] = getattr(args, key)
    if args.spec:
        recipe['spec'].update(args.spec)
    if recipe['spec'] != dict(data.motion_spec):
        # another dataset: keep data/motion (the main job's) as it is
        recipe['data_root'] = osp.join(args.work_dir, 'data')
    return recipe


# --------------------------------------------------------------------------
# One run (child process)


def run_one(config: str, seed: int, recipe: dict, work_dir: str) -> dict:
    """Train ``config`` from scratch with ``recipe``, test the final weights,
    measure; returns the result dict (also written to ``result.json``)."""
    import torch
    from mmengine.config import Config
    from mmengine.hooks import Hook

    from selfy_mmaction.engine import build_runner

    torch.set_num_threads(recipe.get('threads', 1))
    os.makedirs(work_dir, exist_ok=True)
    cfg = apply_recipe(Config.fromfile(config), recipe, work_dir, seed)

    class TrainTimer(Hook):
        """Seconds and clips of the training iterations (data loading
        excluded; the first iteration, warm-up, excluded)."""

        def __init__(self):
            self.seconds, self.clips, self.count = 0.0, 0, 0

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            self.start = time.perf_counter()

        def after_train_iter(
            self, runner, batch_idx, data_batch=None, outputs=None
        ):
            self.count += 1
            if self.count > 1:
                self.seconds += time.perf_counter() - self.start
                self.clips += len(data_batch['inputs'])

    timer = TrainTimer()
    runner = build_runner(cfg)
    runner.register_hook(timer, priority='VERY_LOW')
    start = time.perf_counter()
    runner.train()
    train_s = time.perf_counter() - start
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    metrics = runner.test()
    result = dict(
        config=osp.relpath(config, REPO),
        name=display_name(config),
        seed=seed,
        recipe=recipe,
        top1=float(metrics['acc/top1']),
        top5=float(metrics['acc/top5']),
        pair_acc=_float(metrics.get('motion/pair_acc')),
        direction_acc=_float(metrics.get('motion/direction_acc')),
        metrics={k: float(v) for k, v in metrics.items()},
        corrupted=_corrupted_metrics(runner, cfg, recipe),
        num_test=len(runner.test_dataloader.dataset),
        train_seconds=train_s,
        train_clips_per_s=timer.clips / timer.seconds
        if timer.seconds
        else None,
        peak_rss_mb=peak_rss / 2**20,
        latency_ms=_latency_ms(runner),
        final_loss=_final_loss(runner),
    )
    with open(osp.join(work_dir, 'result.json'), 'w') as f:
        json.dump(result, f, indent=1)
    return result


def _float(value) -> Optional[float]:
    return None if value is None else float(value)


def _corrupted_metrics(runner, cfg, recipe: dict) -> Dict[str, dict]:
    """The test metrics again for every ``(kind, severity)`` of
    ``recipe['corruptions']``: a ``MotionCorruption`` transform after the
    frame decoding of the test pipeline; keyed ``'<kind>:<severity>'``."""
    from mmengine.runner import TestLoop

    out = {}
    for kind, severity in recipe.get('corruptions') or []:
        loader = copy.deepcopy(cfg.test_dataloader)
        pipeline = loader['dataset']['pipeline']
        decode = next(
            i for i, t in enumerate(pipeline) if t['type'].endswith('Decode')
        )
        pipeline.insert(
            decode + 1,
            dict(type='MotionCorruption', kind=kind, severity=severity),
        )
        loop = TestLoop(runner, loader, copy.deepcopy(cfg.test_evaluator))
        metrics = loop.run()
        out[f'{kind}:{severity}'] = {k: float(v) for k, v in metrics.items()}
    return out


def _final_loss(runner) -> Optional[float]:
    history = runner.message_hub.get_scalar('train/loss')
    return float(history.current()) if history is not None else None


def _latency_ms(runner, repeats: int = 10) -> float:
    """Median wall time of ``test_step`` on one clip (batch 1)."""
    import torch

    batch = next(iter(runner.test_dataloader))
    one = dict(
        inputs=batch['inputs'][:1], data_samples=batch['data_samples'][:1]
    )
    model = runner.model.eval()
    times = []
    with torch.no_grad():
        for i in range(repeats + 2):
            start = time.perf_counter()
            model.test_step(one)
            if i >= 2:
                times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


# --------------------------------------------------------------------------
# Per model, once: FLOPs and params


def complexity_of(config: str, recipe: dict) -> dict:
    """GFLOPs (multiply-adds, one clip, correlations analytic) and params at
    the benchmark resolution (:func:`clip_complexity`)."""
    from mmengine.config import Config

    cfg = apply_recipe(Config.fromfile(config), recipe, '/tmp', 0)
    return clip_complexity(cfg, size=recipe['size'])


# --------------------------------------------------------------------------
# Driver


def _run_dir(work_dir: str, config: str, seed: int) -> str:
    stem = osp.splitext(osp.basename(config))[0]
    return osp.join(work_dir, stem, f'seed{seed}')


def finished_result(run_dir: str, recipe: dict) -> Optional[dict]:
    """``run_dir/result.json`` if that run finished with ``recipe``."""
    path = osp.join(run_dir, 'result.json')
    if not osp.exists(path):
        return None
    with open(path) as f:
        result = json.load(f)
    same = result.get('recipe') == json.loads(json.dumps(recipe))
    return result if same else None


def _spawn(config: str, seed: int, recipe: dict, work_dir: str) -> dict:
    run_dir = _run_dir(work_dir, config, seed)
    os.makedirs(run_dir, exist_ok=True)
    result_path = osp.join(run_dir, 'result.json')
    done = finished_result(run_dir, recipe)
    if done is not None:  # a parent killed before it wrote the wall time
        done.setdefault('wall_seconds', done['train_seconds'])
        return dict(done, reused=True)
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    start = time.perf_counter()
    with open(osp.join(run_dir, 'stdout.log'), 'w') as log:
        proc = subprocess.run(
            [
                sys.executable,
                '-m',
                'selfy_mmaction.benchmark.zoo',
                config,
                str(seed),
                json.dumps(recipe),
                run_dir,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=REPO,
        )
    wall = time.perf_counter() - start
    if proc.returncode != 0 or not osp.exists(result_path):
        with open(osp.join(run_dir, 'stdout.log')) as f:
            tail = f.read()[-2000:]
        return dict(
            config=osp.relpath(config, REPO),
            name=display_name(config),
            seed=seed,
            failed=True,
            returncode=proc.returncode,
            wall_seconds=wall,
            log_tail=tail,
        )
    with open(result_path) as f:
        result = json.load(f)
    result['wall_seconds'] = wall
    with open(result_path, 'w') as f:
        json.dump(result, f, indent=1)
    return result


def _summary_line(r: dict, done: int, total: int) -> str:
    head = f'[{done}/{total}] {r["name"]} seed {r["seed"]}'
    if r.get('failed'):
        return (
            f'{head}: FAILED (exit {r["returncode"]}), see '
            f'{_run_dir(".", r["config"], r["seed"])}; last log lines:\n'
            + '\n'.join(r['log_tail'].splitlines()[-8:])
        )
    motion = (
        f' (pair {100 * r["pair_acc"]:.0f}%, direction '
        f'{100 * r["direction_acc"]:.0f}%)'
        if r.get('pair_acc') is not None
        else ''
    )
    return (
        f'{head}: top-1 {100 * r["top1"]:.1f}%{motion}'
        f'{" (finished before: reused)" if r.get("reused") else ""}, '
        f'{r["train_clips_per_s"]:.1f} clips/s, '
        f'{r["peak_rss_mb"]:.0f} MB, {r["latency_ms"]:.1f} ms/clip, '
        f'{r["wall_seconds"]:.0f} s'
    )


def _mean_sd(values: List[float]):
    if not values:
        return None, None
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return statistics.mean(values), sd


def aggregate(results: List[dict], complexity: Dict[str, dict]) -> List[dict]:
    """One row per config: mean and sample standard deviation over seeds."""
    rows = []
    for config in dict.fromkeys(r['config'] for r in results):
        runs = [
            r for r in results if r['config'] == config and not r.get('failed')
        ]
        failed = sum(
            1 for r in results if r['config'] == config and r.get('failed')
        )
        row = dict(
            config=config,
            name=display_name(config),
            seeds=[r['seed'] for r in runs],
            failed=failed,
        )
        for key in (
            'top1',
            'pair_acc',
            'direction_acc',
            'train_clips_per_s',
            'peak_rss_mb',
            'latency_ms',
            'train_seconds',
        ):
            vals = [r[key] for r in runs if r.get(key) is not None]
            row[key], row[key + '_sd'] = _mean_sd(vals)
            if key == 'top1' and vals:
                row['top1_min'], row['top1_max'] = min(vals), max(vals)
        row.update(complexity.get(config, {}))
        rows.append(row)
    return rows


def _pct(row, key):
    if row.get(key) is None:
        return '-'
    return f'{100 * row[key]:.1f} ± {100 * row[key + "_sd"]:.1f}'


def _num(value, fmt):
    return '-' if value is None else format(value, fmt)


def write_markdown(
    path: str, rows: List[dict], recipe: dict, machine: dict, total_s: float
):
    """Write the benchmark table (mean, sd, spread per model) and the recipe to ``path``."""
    spec = recipe['spec']
    lines = [
        '# Motion benchmark',
        '',
        f'{len(recipe["seeds"])} seed(s) {recipe["seeds"]}, '
        f'{recipe["epochs"]} epochs from scratch, batch '
        f'{recipe["batch_size"]}, lr {recipe["lr"]}, '
        f'{recipe["size"]}x{recipe["size"]} px; dataset spec {spec}. '
        'Test = the val split, final weights. Chance: top-1 12.5%, pair 25%, '
        'direction 50% (the ceiling of a frame-order-invariant model).',
        '',
        '| model | top-1 (%) | min-max | pair (%) | direction (%) | GFLOPs | '
        'params (M) | train clips/s | peak RSS (MB) | latency (ms/clip) '
        '| config |',
        '|---|---|---|---|---|---|---|---|---|---|---|',
    ]
    for row in rows:
        if row.get('top1') is None:
            lines.append(
                f'| {row["name"]} | failed | | | | | | | | | {row["config"]} |'
            )
            continue
        gflops = _num(row.get('gflops'), '.3f')
        if row.get('correlation_gflops'):
            gflops += f' (corr. {row["correlation_gflops"]:.3f})'
        lines.append(
            f'| {row["name"]} | {_pct(row, "top1")} | '
            f'{100 * row["top1_min"]:.1f}-{100 * row["top1_max"]:.1f} | '
            f'{_pct(row, "pair_acc")} | {_pct(row, "direction_acc")} | '
            f'{gflops} | {_num(row.get("params_m"), ".2f")} | '
            f'{_num(row["train_clips_per_s"], ".1f")} | '
            f'{_num(row["peak_rss_mb"], ".0f")} | '
            f'{_num(row["latency_ms"], ".1f")} | {row["config"]} |'
        )
    lines += [
        '',
        'Mean ± sample standard deviation over seeds. Throughput: training '
        'iterations only (forward, backward, update; data loading excluded), '
        f'{recipe.get("threads", 1)} PyTorch thread per run, '
        f'{machine["jobs"]} run(s) side by side on {machine["cpus"]} CPU(s). '
        "Peak RSS: the run's process (ru_maxrss). Latency: median "
        '`test_step` of one clip. GFLOPs: multiply-adds of one clip '
        '(mmengine FlopAnalyzer; local correlations counted analytically, '
        'shown in brackets).',
        '',
        f'Machine: {machine["processor"]}, load average at start '
        f'{machine["load_start"]}, at end {machine["load_end"]}; '
        f'total wall time {total_s / 60:.1f} min.',
    ]
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')


def write_plot(path: str, rows: List[dict]):
    """Draw top-1 against GFLOPs, one point per model with its seed spread, to ``path``."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=110)
    for row in rows:
        if row.get('top1') is None or row.get('gflops') is None:
            continue
        ax.errorbar(
            row['gflops'],
            100 * row['top1'],
            yerr=100 * row['top1_sd'],
            fmt='o',
            capsize=3,
        )
        ax.annotate(
            row['name'],
            (row['gflops'], 100 * row['top1']),
            textcoords='offset points',
            xytext=(5, 4),
            fontsize=9,
        )
    ax.axhline(12.5, color='grey', lw=0.8, ls=':')
    ax.axhline(50, color='grey', lw=0.8, ls='--')
    ax.text(
        ax.get_xlim()[0],
        50,
        ' order-invariant ceiling',
        va='bottom',
        fontsize=7,
        color='grey',
    )
    ax.set_xlabel('GFLOPs per clip (multiply-adds)')
    ax.set_ylabel('top-1 (%), mean ± sd over seeds')
    ax.set_ylim(0, 105)
    ax.set_title('Motion benchmark: accuracy vs cost')
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_reports(work_dir: str, payload: dict):
    """Write benchmark.json, benchmark.md and benchmark.png into ``work_dir``."""
    rows = aggregate(payload['runs'], payload['complexity'])
    payload['models'] = rows
    with open(osp.join(work_dir, 'benchmark.json'), 'w') as f:
        json.dump(payload, f, indent=1)
    write_markdown(
        osp.join(work_dir, 'benchmark.md'),
        rows,
        payload['recipe'],
        payload['machine'],
        payload['total_seconds'],
    )
    write_plot(osp.join(work_dir, 'benchmark.png'), rows)
    return rows


def _cpu_name() -> str:
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _loadavg():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _prepare_data(recipe: dict):
    """Generate the recipe's dataset (the motion dataset, or the motion
    suite where ``recipe['generator'] == 'suite'``) unless it is there."""
    from selfy_mmaction.datasets import motion, motion_suite

    os.makedirs(recipe['data_root'], exist_ok=True)
    if recipe.get('generator') == 'suite':
        motion_suite.generate_motion_suite(
            recipe['data_root'], motion_suite.MotionSuiteSpec(**recipe['spec'])
        )
    else:
        motion.generate_motion_dataset(
            recipe['data_root'], motion.MotionDatasetSpec(**recipe['spec'])
        )


def benchmark(args) -> List[dict]:
    """Every (model, seed) run, ``args.jobs`` processes at a time, then
    ``benchmark.md``, ``.png`` and ``.json`` in ``args.work_dir``; returns the
    per-model rows. ``args``: as :func:`shared_recipe`, plus ``configs``,
    ``all``, ``baselines`` and ``jobs``."""
    recipe = shared_recipe(args)
    if args.configs:
        configs = [osp.abspath(c) for c in args.configs]
    elif args.all:
        configs = discover_configs()
    else:
        configs = default_configs(baselines=args.baselines)
    if args.quick and not args.configs:
        configs = configs[:3]
    configs = _dedupe(configs)
    os.makedirs(args.work_dir, exist_ok=True)
    _prepare_data(recipe)
    machine = dict(
        cpus=os.cpu_count(),
        jobs=args.jobs,
        processor=_cpu_name(),
        python=platform.python_version(),
        load_start=_loadavg(),
    )
    tasks = [(c, s) for s in recipe['seeds'] for c in configs]
    print(
        f'benchmark: {len(configs)} models x {len(recipe["seeds"])} seeds '
        f'= {len(tasks)} runs, {args.jobs} at a time; recipe {recipe}'
    )
    start = time.perf_counter()
    complexity = {}
    for config in configs:
        try:
            complexity[osp.relpath(config, REPO)] = complexity_of(
                config, recipe
            )
        except Exception as exc:  # reported, the accuracy still counts
            print(f'benchmark: no FLOPs for {config}: {exc!r}')
    results, done = [], 0
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = [
            pool.submit(_spawn, c, s, recipe, args.work_dir) for c, s in tasks
        ]
        for future in futures:
            result = future.result()
            done += 1
            results.append(result)
            print(_summary_line(result, done, len(tasks)), flush=True)
    machine['load_end'] = _loadavg()
    payload = dict(
        recipe=recipe,
        machine=machine,
        runs=results,
        complexity=complexity,
        total_seconds=time.perf_counter() - start,
    )
    return write_reports(args.work_dir, payload)


def _dedupe(configs: List[str]) -> List[str]:
    """Drop configs whose model (and frame sampling) equals an earlier
    one's."""
    from mmengine.config import Config

    seen, out = {}, []
    for path in configs:
        cfg = Config.fromfile(path)
        pipeline = (
            cfg.get('val_dataloader', {})
            .get('dataset', {})
            .get('pipeline', [])
        )
        key = repr((cfg.model.to_dict(), _sampler(pipeline)))
        if key in seen:
            print(
                f'benchmark: {osp.relpath(path, REPO)} builds the same '
                f'model as {osp.relpath(seen[key], REPO)}; run once'
            )
            continue
        seen[key] = path
        out.append(path)
    return out


def rewrite_reports(work_dir: str) -> str:
    """Table and plot again from ``work_dir/benchmark.json``; returns the
    table (markdown)."""
    with open(osp.join(work_dir, 'benchmark.json')) as f:
        payload = json.load(f)
    write_reports(work_dir, payload)
    with open(osp.join(work_dir, 'benchmark.md')) as f:
        return f.read()


if __name__ == '__main__':
    # one (model, seed) run in its own process: CONFIG SEED RECIPE_JSON
    # RUN_DIR (see _spawn)
    run_one(
        sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4]
    )
