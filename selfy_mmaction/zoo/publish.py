"""Publish a trained model to the zoo: evaluate it, strip it, name it by its
hash and record it in MMAction2's model-zoo metafiles. The command line is
``tools/publish_model.py WORK_DIR [options]``; :func:`publish` takes its
options.

``WORK_DIR`` is an MMEngine work dir: the config dump (``WORK_DIR/*.py``),
the checkpoints (``last_checkpoint``, ``epoch_*.pth``) and the logs
(``WORK_DIR/<timestamp>/<timestamp>.log`` and ``vis_data/<timestamp>.json``),
e.g. a ``tools/train.py`` run or ``work_dirs/benchmark_zoo/<model>/seed<k>``.
Run it from the repository root (configs name their data relative to it).
In order:

1. Inputs. The training config is the dump; ``--config`` is the repository
   config the model is published under (default: ``configs/**/<dump
   stem>.py``); both must build the same model. The checkpoint is
   ``--checkpoint``, else the one ``last_checkpoint`` names (looked up in
   ``WORK_DIR`` by file name if the work dir was moved), else the last
   ``epoch_*.pth`` / ``iter_*.pth``. The log is the newest timestamp folder
   that logged training losses.
2. Strip. Only ``state_dict`` (DDP's ``module.`` prefix removed) and the
   plain ``meta`` fields in :data:`KEPT_META` stay: optimizer, message hub
   (``HistoryBuffer`` objects), schedulers and RNG states go, so the file
   loads with ``torch.load(weights_only=True)`` and no allowlist. The bytes
   are deterministic (same checkpoint, same file). ``meta`` records the
   selfy-mmaction version that trained the weights,
   ``selfy_mmaction_version``: the checkpoint's own when training wrote it,
   else the installed version (which evaluates the file in step 4; a
   warning says so).
3. Name, as MMAction2's ``publish_model.py`` does:
   ``<config stem>_<YYYYMMDD>-<first 8 hex of sha256(file)>.pth`` in
   ``--out-dir`` (default ``zoo/``, ignored by git: the tool refuses an
   out dir inside the repository that git would track). Republishing the
   same weights keeps the existing file name (date included). Written
   atomically (``selfy_mmaction.utils.checkpoint.atomic_write``).
4. Evaluate the published file on the training config's test dataloader
   through MMEngine's ``Runner`` (in a temporary work dir; the file must fit
   the model exactly): top-1 / top-5 are measured here, never copied from a
   log. ``--cfg-options`` changes the config for this (e.g. data paths of a
   work dir made elsewhere, ``test_dataloader.num_workers=0``).
5. FLOPs and parameters of one view at the test input shape, through
   :func:`selfy_mmaction.analysis.complexity.clip_complexity` (backbone +
   head, local correlations counted analytically).
6. The training log is copied beside the weights (``<file stem>.log`` and
   the scalars as ``<file stem>.json``).
7. ``configs/<family>/metafile.yml`` gets (or replaces, by ``Name`` = config
   stem) the model's entry in MMAction2's schema (``Metadata`` adds the
   package version of step 2 and the weights' license, ``--license``,
   default Apache-2.0 like the code), and its collection if missing (an
   existing collection entry is kept as it is, hand edits included; a new
   one points at ``configs/<family>/README.md`` and takes its ``Paper`` from
   that README's first link); a replaced entry's local weights/log that
   nothing references any more are deleted. ``model-index.yml`` at the
   repository root then imports every ``configs/**/metafile.yml``.
   ``python tools/zoo_tables.py --write`` renders the README table from
   them.

Weights and logs stay out of git: ``Weights`` / ``Training Log`` are paths
relative to the repository (``zoo/<file>``). Once uploaded, a URL replaces
the path: upload ``zoo/<file>.pth`` and ``zoo/<file>.log`` so that they are
served as ``<URL>/<file>.pth`` and ``<URL>/<file>.log``, then publish the same
work dir again with ``--url-prefix <URL>``: the same weights give the same
file name, and the entry (replaced by Name) now holds
``<URL>/<file>.pth``. ``init_recognizer(config, '<URL>/<file>.pth')`` and
``load_from`` download such URLs through MMEngine. (Editing the two fields of
the metafile by hand does the same without re-evaluating.)
"""

import copy
import datetime
import glob
import hashlib
import io
import os
import os.path as osp
import re
import subprocess
import tempfile
import uuid
from collections import OrderedDict
from typing import List, Optional, Tuple

import yaml

from ..analysis.complexity import clip_complexity, without_pretrained
from ..benchmark.zoo import display_name
from .tables import list_metafiles, load_yaml

#: ``meta`` fields a published checkpoint keeps (plain types only).
KEPT_META = (
    'epoch',
    'iter',
    'seed',
    'time',
    'experiment_name',
    'mmengine_version',
    'dataset_meta',
    'cfg',
    'selfy_mmaction_version',
)
#: License of the published weights unless ``--license`` says otherwise (the
#: package's own, see LICENSE).
WEIGHTS_LICENSE = 'Apache-2.0'
#: Papers of the collections we publish, for a new collection entry.
PAPERS = {
    'SELFY-TSM': dict(
        URL='https://arxiv.org/abs/2102.07092',
        Title='Learning Self-Similarity in Space and Time as Generalized '
        'Motion for Video Action Recognition',
    ),
    'TSM': dict(
        URL='https://arxiv.org/abs/1811.08383',
        Title='TSM: Temporal Shift Module for Efficient Video Understanding',
    ),
    'TSN': dict(
        URL='https://arxiv.org/abs/1608.00859',
        Title='Temporal Segment Networks: Towards Good Practices for Deep '
        'Action Recognition',
    ),
}
#: Dataset names (MMAction2's spelling) by config name suffix
#: ``_<dataset>-<modality>``.
DATASETS = {
    'motion': 'Motion',
    'motion32': 'Motion32',
    'sthv1': 'SthV1',
    'sthv2': 'SthV2',
    'kinetics400': 'Kinetics-400',
    'diving48': 'Diving48',
    'gym99': 'Gym99',
    'ucf101': 'UCF101',
}
TASK = 'Action Recognition'
_TIMESTAMP = re.compile(r'^\d{8}_\d{6}$')


class PublishError(RuntimeError):
    """The work dir or the options do not allow publishing."""


# --------------------------------------------------------------------------
# Inputs


def find_config_dump(work_dir: str, config: Optional[str]) -> Optional[str]:
    """The MMEngine config dump ``WORK_DIR/*.py`` (the one named like
    ``config`` when there are several); None if there is none."""
    dumps = sorted(glob.glob(osp.join(glob.escape(work_dir), '*.py')))
    if len(dumps) > 1 and config:
        named = [d for d in dumps if osp.basename(d) == osp.basename(config)]
        dumps = named or dumps
    if len(dumps) > 1:
        raise PublishError(
            f'{work_dir} holds {len(dumps)} config dumps '
            f'({", ".join(osp.basename(d) for d in dumps)}); pass the one '
            'that trained it as --config (same file name)'
        )
    return dumps[0] if dumps else None


def find_repo_config(stem: str, repo_root: str) -> str:
    """``configs/**/<stem>.py`` under ``repo_root`` (exactly one)."""
    found = [
        p
        for p in glob.glob(
            osp.join(repo_root, 'configs', '**', f'{glob.escape(stem)}.py'),
            recursive=True,
        )
        if '_base_' not in p.split(osp.sep)
    ]
    if len(found) != 1:
        raise PublishError(
            f'{len(found)} configs named {stem}.py under '
            f'{osp.join(repo_root, "configs")} '
            f'({", ".join(found) or "none"}); pass the repository config '
            'to publish it under with --config'
        )
    return found[0]


def find_checkpoint(work_dir: str) -> str:
    """The checkpoint ``last_checkpoint`` names, else the last
    ``epoch_*.pth`` / ``iter_*.pth``."""
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.exists(pointer):
        with open(pointer) as f:
            named = f.read().strip()
        for path in (named, osp.join(work_dir, osp.basename(named))):
            if path and osp.isfile(path):
                return path
    for pattern in ('epoch_*.pth', 'iter_*.pth'):
        numbered = []
        for path in glob.glob(osp.join(glob.escape(work_dir), pattern)):
            digits = re.findall(r'_(\d+)\.pth$', path)
            if digits:
                numbered.append((int(digits[0]), path))
        if numbered:
            return max(numbered)[1]
    raise PublishError(
        f'no checkpoint in {work_dir}: no last_checkpoint pointing to a file '
        'that exists, no epoch_*.pth or iter_*.pth; pass --checkpoint'
    )


def find_training_log(work_dir: str) -> Tuple[Optional[str], Optional[str]]:
    """``(<ts>.log, vis_data/<ts>.json)`` of the newest timestamp folder
    whose scalars hold a training loss (a later test run's folder is
    skipped); ``(None, None)`` if none."""
    stamps = sorted(
        d
        for d in os.listdir(work_dir)
        if _TIMESTAMP.match(d) and osp.isdir(osp.join(work_dir, d))
    )
    for stamp in reversed(stamps):
        log = osp.join(work_dir, stamp, f'{stamp}.log')
        scalars = osp.join(work_dir, stamp, 'vis_data', f'{stamp}.json')
        if not osp.isfile(scalars):
            continue
        with open(scalars) as f:
            trained = any('"loss"' in line for line in f)
        if trained:
            return (log if osp.isfile(log) else None), scalars
    return None, None


def training_resources(log: Optional[str]) -> str:
    """``'<n> GPU(s)'`` or ``'<n> CPU process(es)'`` from the log header
    (MMEngine's ``CUDA available`` and ``GPU number`` = world size)."""
    if log is None:
        return 'unknown'
    with open(log, errors='replace') as f:
        head = f.read(20000)
    cuda = re.search(r'CUDA available: (True|False)', head)
    number = re.search(r'GPU number: (\d+)', head)
    if not (cuda and number):
        return 'unknown'
    n = int(number.group(1))
    if cuda.group(1) == 'True':
        return f'{n} GPU{"s" if n > 1 else ""}'
    return f'{n} CPU process{"es" if n > 1 else ""}'


# --------------------------------------------------------------------------
# The published file


def strip_checkpoint(checkpoint: dict) -> dict:
    """``{'meta': <KEPT_META fields>, 'state_dict': <weights>}``: tensors
    copied into their own contiguous storage, DDP's ``module.`` prefix
    removed (state-dict version metadata kept)."""
    from selfy_mmaction.utils.checkpoint import checkpoint_state_dict

    def unprefixed(key):
        return (
            key[len('module.') :]
            if key.startswith('module.')
            else ('' if key == 'module' else key)
        )

    state = checkpoint_state_dict(checkpoint)
    stripped = OrderedDict()
    for key, value in state.items():
        if not hasattr(value, 'detach'):
            raise PublishError(
                f'state_dict[{key!r}] is a '
                f'{type(value).__name__}, expected a tensor'
            )
        stripped[key] = value.detach().cpu().contiguous().clone()
    versions = getattr(
        checkpoint.get('state_dict', checkpoint), '_metadata', None
    )
    if versions is not None:
        stripped._metadata = OrderedDict(
            (unprefixed(k), dict(v)) for k, v in versions.items()
        )
    meta = {
        k: copy.deepcopy(v)
        for k, v in (checkpoint.get('meta') or {}).items()
        if k in KEPT_META
    }
    return dict(meta=meta, state_dict=stripped)


def record_version(published: dict) -> str:
    """Set ``published['meta']['selfy_mmaction_version']`` and return it:
    the version the training checkpoint recorded, else the installed one
    (with a warning: the weights may come from an older version)."""
    meta = published.setdefault('meta', {})
    if not meta.get('selfy_mmaction_version'):
        from selfy_mmaction.version import __version__

        print(
            'publish: warning: the checkpoint does not record the '
            'selfy-mmaction version that trained it; recording the '
            f'installed {__version__}'
        )
        meta['selfy_mmaction_version'] = __version__
    return meta['selfy_mmaction_version']


def readme_paper(readme: str) -> Optional[dict]:
    """``{'URL', 'Title'}`` of the first markdown link of a model-zoo
    README (MMAction2's layout: ``# Name``, then ``[Paper title](URL)``);
    None if there is no such README or link."""
    if not osp.isfile(readme):
        return None
    with open(readme, encoding='utf-8') as f:
        head = f.read().split('<!-- [ALGORITHM] -->')[0]
    match = re.search(r'\[([^\]]+)\]\((https?://[^)\s]+)\)', head)
    if not match:
        return None
    return OrderedDict([('URL', match.group(2)), ('Title', match.group(1))])


def checkpoint_bytes(checkpoint: dict) -> bytes:
    """``torch.save`` into memory (the same checkpoint gives the same
    bytes: the archive is not named after a file)."""
    import torch

    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    return buffer.getvalue()


def published_name(
    stem: str,
    digest: str,
    previous: Optional[str],
    today: Optional[str] = None,
) -> str:
    """``<stem>_<YYYYMMDD>-<digest[:8]>.pth``; the date of ``previous`` (a
    file name already published) when it holds the same hash."""
    match = re.match(
        rf'^{re.escape(stem)}_(\d{{8}})-([0-9a-f]{{8}})\.pth$',
        osp.basename(previous or ''),
    )
    if match and match.group(2) == digest[:8]:
        return osp.basename(previous)
    date = today or datetime.date.today().strftime('%Y%m%d')
    return f'{stem}_{date}-{digest[:8]}.pth'


def _ensure_ignored(out_dir: str, repo_root: str):
    """Refuse an out dir inside the git work tree that git would track."""
    inside = not osp.relpath(out_dir, repo_root).startswith(os.pardir)
    if not inside or not osp.exists(osp.join(repo_root, '.git')):
        return
    probe = osp.join(out_dir, 'probe.log')
    try:
        proc = subprocess.run(
            ['git', '-C', repo_root, 'check-ignore', '-q', probe],
            capture_output=True,
        )
    except OSError:  # no git
        return
    if proc.returncode == 1:
        raise PublishError(
            f'{out_dir} is inside the repository and not ignored by git: '
            'weights and logs must stay out of git; add '
            f'/{osp.relpath(out_dir, repo_root)}/ to .gitignore or pass '
            'another --out-dir'
        )


# --------------------------------------------------------------------------
# Measurements


def evaluate(cfg, checkpoint: str) -> dict:
    """Top-1 / top-5 (fractions) of ``checkpoint`` on ``cfg``'s test
    dataloader through MMEngine's Runner, in a temporary work dir; the
    checkpoint must fit the model exactly."""
    from selfy_mmaction.engine import build_runner
    from selfy_mmaction.utils import check_checkpoint_fits

    cfg = copy.deepcopy(cfg)
    for key in ('test_dataloader', 'test_cfg'):
        if not cfg.get(key):
            raise PublishError(
                f'the training config has no {key}: nothing '
                'to evaluate the checkpoint on'
            )
    cfg.test_evaluator = dict(
        type='AccMetric',
        metric_list=('top_k_accuracy',),
        metric_options=dict(top_k_accuracy=dict(topk=(1, 5))),
    )
    cfg.load_from = checkpoint
    cfg.resume = False
    cfg.launcher = 'none'
    cfg.experiment_name = f'publish_{uuid.uuid4().hex[:8]}'
    with tempfile.TemporaryDirectory(prefix='publish_eval_') as tmp:
        cfg.work_dir = tmp
        runner = build_runner(cfg)
        check_checkpoint_fits(runner.model, checkpoint)
        metrics = runner.test()
    return dict(
        top1=float(metrics['acc/top1']), top5=float(metrics['acc/top5'])
    )


def measure_complexity(cfg) -> dict:
    """:func:`clip_complexity` of one view of the test pipeline."""
    return clip_complexity(cfg, split='test')


# --------------------------------------------------------------------------
# Metafile entries


def _architecture(model: dict) -> str:
    """``ResNet18 + SELFYBlock`` (depth and inserted blocks), else the
    backbone type."""
    backbone = model.get('backbone') or {}
    name = backbone.get('type', model.get('type', '?'))
    if backbone.get('depth') and 'ResNet' in name:
        name = f'ResNet{backbone["depth"]}'
    blocks = [
        b.get('cfg', {}).get('type') for b in backbone.get('blocks') or []
    ]
    return ' + '.join([name] + [b for b in dict.fromkeys(blocks) if b])


def _pretrained(cfg) -> str:
    source = (cfg.model.get('backbone') or {}).get('pretrained') or cfg.get(
        'load_from'
    )
    if not source:
        return 'None'
    if 'imagenet' in str(source).lower() or str(source).startswith(
        'torchvision://'
    ):
        return 'ImageNet'
    return osp.basename(str(source))


def _dataset(cfg, stem: str) -> str:
    match = re.search(r'_([a-z0-9]+)-(rgb|flow)$', stem)
    if match:
        return DATASETS.get(match.group(1), match.group(1))
    dataset_type = cfg.test_dataloader.dataset.get('type', '')
    return 'Motion' if dataset_type == 'MotionVideoDataset' else dataset_type


def _modality(stem: str) -> str:
    return 'Flow' if stem.endswith('-flow') else 'RGB'


def _gflops_text(gflops: float) -> str:
    return f'{gflops:.2f}G' if gflops >= 1 else f'{gflops:.3f}G'


def default_family(config: str, repo_root: str) -> str:
    """The config's folder under ``configs/``; the name's first token for a
    config directly in ``configs/``."""
    rel = osp.relpath(
        osp.dirname(osp.abspath(config)), osp.join(repo_root, 'configs')
    )
    if rel == '.' or rel.startswith(os.pardir):
        return osp.basename(config).split('_')[0].split('-')[0]
    return rel.replace(osp.sep, '/')


def default_collection(config: str) -> str:
    """The benchmark's display name of the config's algorithm."""
    return display_name(config)


def model_entry(
    *,
    name: str,
    config_rel: str,
    collection: str,
    cfg,
    epochs: int,
    complexity: dict,
    resources: str,
    metrics: dict,
    weights: str,
    log: Optional[str],
    stem: str,
    version: str,
    weights_license: str = WEIGHTS_LICENSE,
) -> dict:
    """One ``Models`` entry in MMAction2's metafile schema; ``Metadata``
    adds the selfy-mmaction ``version`` that trained the weights and their
    license."""
    height, width = complexity['input_shape'][-2:]
    dataset = _dataset(cfg, stem)
    entry = OrderedDict(
        [
            ('Name', name),
            ('Config', config_rel),
            ('In Collection', collection),
            (
                'Metadata',
                OrderedDict(
                    [
                        ('Architecture', _architecture(cfg.model)),
                        ('Batch Size', int(cfg.train_dataloader.batch_size)),
                        ('Epochs', int(epochs)),
                        ('FLOPs', _gflops_text(complexity['gflops'])),
                        ('Parameters', f'{complexity["params_m"]:.2f}M'),
                        ('Pretrained', _pretrained(cfg)),
                        ('Resolution', f'{height}x{width}'),
                        ('Training Data', dataset),
                        ('Training Resources', resources),
                        ('selfy-mmaction Version', str(version)),
                        ('Weights License', weights_license),
                    ]
                ),
            ),
            ('Modality', _modality(stem)),
            (
                'Results',
                [
                    OrderedDict(
                        [
                            ('Dataset', dataset),
                            ('Task', TASK),
                            (
                                'Metrics',
                                OrderedDict(
                                    [
                                        (
                                            'Top 1 Accuracy',
                                            round(100 * metrics['top1'], 2),
                                        ),
                                        (
                                            'Top 5 Accuracy',
                                            round(100 * metrics['top5'], 2),
                                        ),
                                    ]
                                ),
                            ),
                        ]
                    )
                ],
            ),
        ]
    )
    if log:
        entry['Training Log'] = log
    entry['Weights'] = weights
    return entry


class _MetafileDumper(yaml.SafeDumper):
    """Block style with indented lists (MMAction2's layout), insertion
    order kept."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


_MetafileDumper.add_representer(
    OrderedDict, lambda dumper, data: dumper.represent_dict(data.items())
)


def dump_yaml(data) -> bytes:
    """``data`` as metafile YAML (keys in order, no line wrapping)."""
    return yaml.dump(
        data,
        Dumper=_MetafileDumper,
        sort_keys=False,
        allow_unicode=True,
        width=1000,
    ).encode('utf-8')


def update_metafile(
    path: str, collection: dict, entry: dict
) -> Optional[dict]:
    """Put ``entry`` into the metafile at ``path`` (replacing the model of
    the same Name in place, else appending) and ``collection`` if its Name
    is missing. Returns the replaced entry (None if new)."""
    from selfy_mmaction.utils.checkpoint import atomic_write

    data = load_yaml(path) if osp.exists(path) else {}
    collections = data.get('Collections') or []
    if not any(c.get('Name') == collection['Name'] for c in collections):
        collections.append(collection)
    models = data.get('Models') or []
    previous = None
    for i, model in enumerate(models):
        if model.get('Name') == entry['Name']:
            previous, models[i] = model, entry
            break
    else:
        models.append(entry)
    out = OrderedDict([('Collections', collections), ('Models', models)])
    out.update((k, v) for k, v in data.items() if k not in out)
    atomic_write(path, dump_yaml(out))
    return previous


def write_model_index(repo_root: str) -> str:
    """``model-index.yml`` importing every ``configs/**/metafile.yml``."""
    from selfy_mmaction.utils.checkpoint import atomic_write

    path = osp.join(repo_root, 'model-index.yml')
    atomic_write(path, dump_yaml({'Import': list_metafiles(repo_root)}))
    return path


def _remove_unreferenced(
    previous: dict, repo_root: str, out_dir: str, keep: List[str]
):
    """Delete the files of a replaced entry (weights, log, scalars) from
    ``out_dir`` unless a metafile entry or ``keep`` still names them (a
    local path or a URL ending in the same file name)."""

    def names(model):
        return {
            osp.basename(str(model.get(k) or ''))
            for k in ('Weights', 'Training Log')
        }

    referenced = {osp.basename(str(k or '')) for k in keep}
    for rel in list_metafiles(repo_root):
        for model in load_yaml(osp.join(repo_root, rel)).get('Models') or []:
            referenced |= names(model)
    for name in names(previous) - referenced - {''}:
        stem = osp.splitext(name)[0]
        for stale in (name, stem + '.json'):
            path = osp.join(out_dir, stale)
            if osp.isfile(path):
                os.remove(path)
                print(f'publish: removed {path} (its entry was replaced)')


# --------------------------------------------------------------------------
# Driver


def publish(args) -> dict:
    """Everything in the module docstring; returns the metafile entry.

    ``args``: the options of ``tools/publish_model.py`` (an
    ``argparse.Namespace``): ``work_dir``, ``checkpoint``, ``config``,
    ``out_dir``, ``family``, ``collection``, ``training_resources``,
    ``url_prefix``, ``license``, ``repo_root`` and ``cfg_options`` (None
    where not given)."""
    import torch
    from mmengine.config import Config

    from selfy_mmaction.utils.checkpoint import atomic_write

    repo_root = osp.abspath(args.repo_root)
    work_dir = osp.abspath(args.work_dir)
    if not osp.isdir(work_dir):
        raise PublishError(f'work dir {work_dir} does not exist')
    dump = find_config_dump(work_dir, args.config)
    if args.config:
        config = osp.abspath(args.config)
        if not osp.isfile(config):
            raise PublishError(f'--config {config} does not exist')
    elif dump:
        config = find_repo_config(
            osp.splitext(osp.basename(dump))[0], repo_root
        )
    else:
        raise PublishError(
            f'{work_dir} has no config dump (*.py); pass --config'
        )
    if osp.relpath(config, repo_root).startswith(os.pardir):
        raise PublishError(
            f'--config {config} is not inside the repository '
            f'{repo_root}: the metafile names it relative '
            'to the repository'
        )
    cfg = Config.fromfile(dump or config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    _check_same_model(cfg, Config.fromfile(config), dump or config, config)
    checkpoint_path = osp.abspath(args.checkpoint or find_checkpoint(work_dir))
    log, scalars = find_training_log(work_dir)

    stem = osp.splitext(osp.basename(config))[0]
    family = args.family or default_family(config, repo_root)
    metafile = osp.join(repo_root, 'configs', family, 'metafile.yml')
    previous = _existing_entry(metafile, stem)
    out_dir = osp.abspath(args.out_dir or osp.join(repo_root, 'zoo'))
    _ensure_ignored(out_dir, repo_root)

    checkpoint = torch.load(
        checkpoint_path, map_location='cpu', weights_only=True
    )
    stripped = strip_checkpoint(checkpoint)
    version = record_version(stripped)
    data = checkpoint_bytes(stripped)
    digest = hashlib.sha256(data).hexdigest()
    filename = published_name(stem, digest, (previous or {}).get('Weights'))
    weights_path = osp.join(out_dir, filename)
    existed = osp.exists(weights_path)
    atomic_write(weights_path, data)
    print(
        f'publish: {checkpoint_path} -> {weights_path} '
        f'({len(data) / 2**20:.1f} MiB, sha256 {digest})'
    )
    try:
        metrics = evaluate(cfg, weights_path)
    except BaseException:
        if not existed:
            os.remove(weights_path)
        raise
    complexity = measure_complexity(cfg)

    file_stem = osp.splitext(filename)[0]
    log_name = None
    if log or scalars:
        for source, ext in ((log, '.log'), (scalars, '.json')):
            if source:
                with open(source, 'rb') as f:
                    atomic_write(osp.join(out_dir, file_stem + ext), f.read())
        log_name = file_stem + ('.log' if log else '.json')
    else:
        print(
            f'publish: no training log in {work_dir} (no timestamp folder '
            'with training losses); Training Log left out'
        )

    def location(name):
        if args.url_prefix:
            return f'{args.url_prefix.rstrip("/")}/{name}'
        return osp.relpath(osp.join(out_dir, name), repo_root).replace(
            osp.sep, '/'
        )

    epochs = stripped['meta'].get('epoch') or cfg.train_cfg.get('max_epochs')
    if cfg.train_cfg.get('max_epochs') not in (None, epochs):
        print(
            f'publish: warning: the checkpoint is from epoch {epochs} of '
            f'{cfg.train_cfg["max_epochs"]}'
        )
    collection_name = args.collection or default_collection(config)
    entry = model_entry(
        name=stem,
        config_rel=osp.relpath(config, repo_root).replace(osp.sep, '/'),
        collection=collection_name,
        cfg=cfg,
        epochs=epochs,
        complexity=complexity,
        resources=args.training_resources or training_resources(log),
        metrics=metrics,
        weights=location(filename),
        log=location(log_name) if log_name else None,
        stem=stem,
        version=version,
        weights_license=args.license,
    )
    collection = OrderedDict([('Name', collection_name)])
    readme = osp.join('configs', family, 'README.md').replace(osp.sep, '/')
    collection['README'] = (
        readme if osp.exists(osp.join(repo_root, readme)) else 'README.md'
    )
    paper = readme_paper(osp.join(repo_root, readme)) or PAPERS.get(
        collection_name
    )
    if paper:
        collection['Paper'] = OrderedDict(paper)
    replaced = update_metafile(metafile, collection, entry)
    if replaced:
        _remove_unreferenced(
            replaced,
            repo_root,
            out_dir,
            keep=[entry['Weights'], entry.get('Training Log')],
        )
    index = write_model_index(repo_root)
    result = entry['Results'][0]
    print(
        f'publish: {stem}: top-1 {result["Metrics"]["Top 1 Accuracy"]:.2f}'
        f', top-5 {result["Metrics"]["Top 5 Accuracy"]:.2f} '
        f'({result["Dataset"]} test split), '
        f'{entry["Metadata"]["FLOPs"]} FLOPs, '
        f'{entry["Metadata"]["Parameters"]} params; '
        f'{"replaced" if replaced else "added"} in '
        f'{osp.relpath(metafile, repo_root)}; '
        f'{osp.relpath(index, repo_root)} updated'
    )
    return entry


def _existing_entry(metafile: str, name: str) -> Optional[dict]:
    if not osp.exists(metafile):
        return None
    for model in load_yaml(metafile).get('Models') or []:
        if model.get('Name') == name:
            return model
    return None


def _check_same_model(cfg, repo_cfg, trained: str, config: str):
    """The repository config must build the model that was trained."""
    a = without_pretrained(cfg.model.to_dict())
    b = without_pretrained(repo_cfg.model.to_dict())
    if a != b:
        keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        raise PublishError(
            f'{config} does not build the model that {trained} trained '
            f'(model keys that differ: {", ".join(keys)}); publish it under '
            'the config that builds it (--config)'
        )
