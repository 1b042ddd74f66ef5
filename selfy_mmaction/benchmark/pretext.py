"""Does playback-speed pretraining help, and if not, why?

The command line is ``tools/pretext_vs_scratch.py``. Pretext pretraining
without labels (``configs/pretext/speedorder_*_motion32-pretext.py``), then
the recognition recipe (``configs/pretext/r3d18-tiny-tgn_1x8x2-15e_motion32-
rgb.py``) on the first VIDEOS labelled training videos for EPOCHS epochs, in
several arms (:data:`ARMS`) that differ only in how they start:

* ``scratch``: random init;
* ``finetune``: the pretext checkpoint (``load_from``);
* ``rescaled``: the pretext checkpoint with every convolution that a norm
  layer follows scaled to the norm it has at init, and that norm's running
  statistics with it (:func:`rescale_to_init`). The network computes the
  same function (a norm layer cancels a positive scale of its input), but a
  scale-invariant weight's effective learning rate is ``lr / |w|^2``, so this
  arm starts from the pretext features at the step size of training from
  scratch;
* ``probe``: the pretext checkpoint with the whole backbone frozen
  (``frozen_stages=4``, norm layers in eval mode): only the fc learns, so
  the accuracy says how much of the classes the pretext features already
  separate linearly.

Each seed pretrains its own pretext run by default: the pretext runs differ
a lot (order accuracy 29-49 % over seeds 0-2), and one run shared by all
seeds counts its luck in every fine-tune (``--shared-pretext`` does that).
Every run goes through ``tools/train.py``; a run whose last checkpoint exists
is not run again, so an interrupted comparison continues where it stopped.
Reported: the validation top-1 (96 videos) after the last epoch.
"""

import glob
import io
import json
import os.path as osp
import statistics
import subprocess
import sys
import time
from typing import Dict, List

import torch

from . import zoo

REPO = zoo.REPO
PRETEXT = osp.join(
    zoo.CONFIGS,
    'pretext',
    'speedorder_r3d18-tiny-tgn_8fx4clips-12e_motion32-pretext.py',
)
SCRATCH = osp.join(
    zoo.CONFIGS, 'pretext', 'r3d18-tiny-tgn_1x8x2-15e_motion32-rgb.py'
)
#: arm -> what it starts from (see the module docstring).
ARMS: Dict[str, str] = {
    'scratch': 'random init',
    'finetune': 'pretext weights',
    'rescaled': 'pretext weights, convs rescaled to their init norms',
    'probe': 'pretext weights, backbone frozen (fc only)',
}


def last_val(work_dir: str) -> dict:
    """The last validation entry of the newest run in ``work_dir``."""
    logs = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    )
    for log in reversed(logs):
        with open(log) as f:
            entries = [json.loads(line) for line in f if line.strip()]
        vals = [e for e in entries if 'acc/top1' in e]
        if vals:
            return vals[-1]
    raise RuntimeError(f'no validation result in {work_dir}')


def train(config: str, work_dir: str, seed: int, epochs: int, *options):
    """Run tools/train.py unless ``epoch_<epochs>.pth`` is there; return the
    last validation entry."""
    if not osp.exists(osp.join(work_dir, f'epoch_{epochs}.pth')):
        cmd = [
            sys.executable,
            osp.join(REPO, 'tools', 'train.py'),
            config,
            '--work-dir',
            work_dir,
            '--seed',
            str(seed),
            '--cfg-options',
            f'train_cfg.max_epochs={epochs}',
            f'train_cfg.val_interval={epochs}',
            f'param_scheduler.1.T_max={epochs}',
            f'param_scheduler.1.end={epochs}',
            *options,
        ]
        print('$', ' '.join(cmd), flush=True)
        start = time.time()
        subprocess.run(cmd, check=True, cwd=REPO, stdout=subprocess.DEVNULL)
        print(f'  done in {time.time() - start:.0f} s', flush=True)
    return last_val(work_dir)


def _conv_norm_layers(model: torch.nn.Module) -> List[tuple]:
    """``(conv weight key, norm module prefix)`` of every ``ConvModule`` in
    ``model`` whose norm layer follows its convolution."""
    from mmcv.cnn import ConvModule

    layers = []
    for name, module in model.named_modules():
        if (
            isinstance(module, ConvModule)
            and module.with_norm
            and module.order.index('conv') < module.order.index('norm')
        ):
            layers.append(
                (f'{name}.conv.weight', f'{name}.{module.norm_name}')
            )
    return layers


def rescale_to_init(state: dict, model: torch.nn.Module) -> tuple:
    """Scale each normalised convolution of ``state`` to its norm in
    ``model`` (freshly initialised), with the norm's running statistics.

    For a conv weight ``w`` and its init ``w0``, ``a = |w0| / |w|``;
    ``w <- a w``, ``running_mean <- a running_mean``, ``running_var <- a^2
    running_var``. The norm layer's output is unchanged in train mode
    (batch statistics) and in eval mode, up to its ``eps`` (which the
    scale turns into ``eps / a^2``).

    Args:
        state (dict): Checkpoint state dict (model keys, e.g. ``backbone.``).
        model (nn.Module): The model ``state`` is for, freshly initialised.

    Returns:
        tuple: The new state dict and ``{conv weight key: a}``.

    Raises:
        KeyError: A normalised conv of ``model`` is missing from ``state``.
    """
    init = model.state_dict()
    new = dict(state)
    scales = {}
    for weight, norm in _conv_norm_layers(model):
        if weight not in state:
            raise KeyError(
                f'{weight} (a convolution of the model) is not in the '
                f'checkpoint'
            )
        scale = (init[weight].norm() / state[weight].norm()).item()
        new[weight] = state[weight] * scale
        for stat, power in (('running_mean', 1), ('running_var', 2)):
            key = f'{norm}.{stat}'
            if key in state:
                new[key] = state[key] * scale**power
        scales[weight] = scale
    return new, scales


def write_rescaled(checkpoint: str, out: str, seed: int = 0) -> dict:
    """Write ``checkpoint``'s weights rescaled to the recognition config's
    init (:func:`rescale_to_init`, init drawn with ``seed``) to ``out``
    (atomically); return the scales."""
    from mmaction.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from ..utils.checkpoint import atomic_write, checkpoint_state_dict

    init_default_scope('mmaction')
    torch.manual_seed(seed)
    model = MODELS.build(Config.fromfile(SCRATCH).model)
    model.init_weights()
    state = checkpoint_state_dict(torch.load(checkpoint, map_location='cpu'))
    rescaled, scales = rescale_to_init(state, model)
    buffer = io.BytesIO()
    torch.save(dict(state_dict=rescaled, meta=dict(scales=scales)), buffer)
    atomic_write(out, buffer.getvalue())
    return scales


def arm_options(arm: str, checkpoint: str, rescaled: str) -> List[str]:
    """``--cfg-options`` of one arm on top of the recognition config."""
    if arm == 'scratch':
        return []
    if arm == 'finetune':
        return [f'load_from={checkpoint}']
    if arm == 'rescaled':
        return [f'load_from={rescaled}']
    if arm == 'probe':
        return [f'load_from={checkpoint}', 'model.backbone.frozen_stages=4']
    raise ValueError(f'unknown arm {arm!r}; known: {list(ARMS)}')


def run_comparison(args) -> dict:
    """Pretrain once per seed (or once for all with ``shared_pretext``),
    then every protocol x seed x arm; ``args``: ``seeds``, ``work_dir``,
    ``shared_pretext``, ``pretext_epochs``, ``protocols``, ``arms``. Writes
    and returns ``WORK_DIR/summary.json``."""
    # seed -> the seed of the pretext run it starts from
    pre_seeds = {
        seed: args.seeds[0] if args.shared_pretext else seed
        for seed in args.seeds
    }
    pretext, scales = {}, {}
    for pre_seed in dict.fromkeys(pre_seeds.values()):
        work = osp.join(args.work_dir, f'pretext_seed{pre_seed}')
        pretext[pre_seed] = train(
            PRETEXT, work, pre_seed, args.pretext_epochs
        )['acc/top1']
        if 'rescaled' in args.arms:
            scales[pre_seed] = write_rescaled(
                osp.join(work, f'epoch_{args.pretext_epochs}.pth'),
                osp.join(work, 'rescaled_to_init.pth'),
            )
    summary = dict(
        pretext_top1=pretext,
        pretext_epochs=args.pretext_epochs,
        arms=args.arms,
        rescale=_scale_summary(scales),
        protocols={},
    )
    for protocol in args.protocols:
        videos, epochs = (int(v) for v in protocol.split(':'))
        rows = []
        for seed in args.seeds:
            pre_seed = pre_seeds[seed]
            pre_dir = osp.join(args.work_dir, f'pretext_seed{pre_seed}')
            ckpt = osp.join(pre_dir, f'epoch_{args.pretext_epochs}.pth')
            rescaled = osp.join(pre_dir, 'rescaled_to_init.pth')
            row = dict(seed=seed, pretext_seed=pre_seed)
            for arm in args.arms:
                # the pretext run an arm starts from is part of its name
                name = f'{arm}_seed{seed}'
                if arm != 'scratch':
                    name += f'_pretext{pre_seed}'
                work = osp.join(args.work_dir, f'{videos}videos', name)
                row[arm] = train(
                    SCRATCH,
                    work,
                    seed,
                    epochs,
                    f'train_dataloader.dataset.indices={videos}',
                    *arm_options(arm, ckpt, rescaled),
                )['acc/top1']
            rows.append(row)
        summary['protocols'][protocol] = dict(
            rows=rows,
            **{arm: _mean_sd([r[arm] for r in rows]) for arm in args.arms},
        )
        with open(osp.join(args.work_dir, 'summary.json'), 'w') as f:
            json.dump(summary, f, indent=1)
    return summary


def _mean_sd(values: List[float]) -> tuple:
    sd = statistics.stdev(values) if len(values) > 1 else float('nan')
    return statistics.mean(values), sd


def _scale_summary(scales: dict) -> dict:
    """Per pretext seed: min, median and max of the rescaling factors."""
    return {
        seed: dict(
            min=min(s.values()),
            median=statistics.median(s.values()),
            max=max(s.values()),
            layers=len(s),
        )
        for seed, s in scales.items()
    }


def report(summary: dict) -> str:
    """Markdown tables of :func:`run_comparison`'s summary."""
    lines = [
        'pretext val top-1 (24 orders, chance 0.042): '
        + ', '.join(
            f'seed {s}: {v:.4f}' for s, v in summary['pretext_top1'].items()
        )
    ]
    for seed, s in summary.get('rescale', {}).items():
        lines.append(
            f'rescaling factors (pretext seed {seed}, {s["layers"]} convs): '
            f'min {s["min"]:.3f}, median {s["median"]:.3f}, '
            f'max {s["max"]:.3f}'
        )
    arms = summary['arms']
    for protocol, result in summary['protocols'].items():
        videos, epochs = protocol.split(':')
        lines += [
            '',
            f'{videos} labelled videos, {epochs} epochs: val top-1',
            '| seed | ' + ' | '.join(ARMS[a] for a in arms) + ' |',
            '|---|' + '---|' * len(arms),
        ]
        for r in result['rows']:
            lines.append(
                f'| {r["seed"]} | '
                + ' | '.join(f'{r[a]:.4f}' for a in arms)
                + ' |'
            )
        lines.append(
            '| mean (sd) | '
            + ' | '.join(
                f'{result[a][0]:.4f} ({result[a][1]:.4f})' for a in arms
            )
            + ' |'
        )
    return '\n'.join(lines)
