"""SELFY's cost side by side: the STSS op, the SELFY block and its parts,
and TSM-R50 against SELFYNet-TSM-R50 training and inference steps.

    python tools/analysis/benchmark_selfy.py [--quick] [--device cpu|cuda|all]
        [--threads N] [--clock wall|cpu] [--profile 25] [--out FILE.md]

Sections (one run, same machine, same settings):

* **STSS op**: :func:`selfy_mmaction.ops.stss` (``ours``) against the plain
  ``F.unfold`` formulation (``unfold``) of ``tools/analysis/benchmark_stss.py``
  on SELFY's features after ResNet-50 ``layer2``: 8 clips, T=8, C=128,
  14x14, window 5x9x9. Forward and forward + backward time, peak memory
  above the inputs, and that peak over (output + input).
* **SELFY block**: ``SELFYBlock(512, 8)`` on one 8-frame clip at 224 px
  (input ``(8, 512, 28, 28)``) and each of its parts (transformation: 3x3
  conv + L2 normalisation + STSS; extraction; integration), in training mode
  (forward, forward + backward into the input, peak memory) and in eval mode
  without gradients; last, the same block as its plain formulation
  (``impl='reference'``: every layer called, STSS by its definition). The
  last BN is set to 1 (a fresh block starts at 0).
* **Networks**: the recognizers of ``configs/selfy_tsm_r50_ssv1.py`` and of
  the matching TSM config
  (``configs/tsm/tsm_imagenet-pretrained-r50_8xb8-1x1x8-50e_sthv1-rgb.py``),
  weights not loaded, 8 x 224 x 224 clips, batch 1 and 4: a training step
  (``model.train_step``: preprocessing, loss, backward, the config's SGD
  with gradient clipping) and an inference step (eval, ``model.test_step``
  without gradients); each backbone alone at batch 1 and 4 (forward +
  backward in train mode, and inference); one clip's forward + backward
  through the TSM backbone and through the SELFY block alone. TSM and
  SELFYNet (and the block) are timed in alternation, median of 5 rounds
  after one warm-up round, so that drifts of a shared machine hit both alike.
* **Ratios** against the targets of issues #12 and #22: op speed-up over
  unfold and its memory; block forward + backward over TSM-R50 backbone
  forward + backward (one clip); SELFYNet over TSM training step and
  inference; SELFYNet-TSM-R50 over TSM-R50 backbone forward + backward and
  inference, batch 1 and 4.

Other times are medians of up to 3 runs after one warm-up (fewer for runs
over ``--max-seconds``), wall clock by default (``--clock cpu``: CPU time of
the process, all threads); peak memory is torch's allocations above what
was allocated before the step: on CPU the running sum of the profiler's
allocation events (``benchmark_stss.peak_bytes``; memory that libraries
allocate outside torch is not seen), on CUDA
``torch.cuda.max_memory_allocated``.
CUDA runs synchronise around every timed step. ``--device all`` (default)
adds CUDA when a device is there and says so when not. ``--profile N``
prints the N ops where the block's forward + backward and eval forward
spend most time (``torch.profiler``). ``--quick``: tiny shapes and
ResNet-18 networks at 64 px (a smoke test of seconds).
"""

import argparse
import datetime
import logging
import os
import os.path as osp
import sys

import torch

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import benchmark_stss as bs  # noqa: E402

from selfy_mmaction.analysis.complexity import without_pretrained  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SELFY_CONFIG = osp.join(REPO, 'configs', 'selfy_tsm_r50_ssv1.py')
TSM_CONFIG = osp.join(
    REPO,
    'configs',
    'tsm',
    'tsm_imagenet-pretrained-r50_8xb8-1x1x8-50e_sthv1-rgb.py',
)
# issues #12 and #22: measured ratio must be <= target (>= for the op's
# speed-up); backbone_*: SELFYNet-TSM-R50 / TSM-R50 backbone alone
TARGETS = dict(
    stss_speedup=50.0,
    stss_memory=1.5,
    block=0.16,
    train=1.15,
    inference=1.12,
    backbone_train=1.12,
    backbone_inference=1.10,
)
MB = 1 / 2**20


class Settings:
    """Sizes of a full or a ``--quick`` run."""

    def __init__(self, quick: bool):
        self.quick = quick
        self.stss_size = (
            (2, 4, 32, 8, 8, 5, 9, 9)
            if quick
            else (8, 8, 128, 14, 14, 5, 9, 9)
        )
        # block input (N*T, C, H, W), hidden channels
        self.block_input = (8, 64, 16, 16) if quick else (8, 512, 28, 28)
        self.hidden = 16 if quick else 128
        self.depth = 18 if quick else 50
        self.resolution = 64 if quick else 224
        self.batches = (1,) if quick else (1, 4)
        self.repeats = 1 if quick else 3
        self.net_repeats = 1 if quick else 5


def _fmt(value, spec='.1f'):
    return '-' if value is None else format(value, spec)


def _timed(fn, device, clock, max_seconds, repeats):
    return 1000 * bs.time_fn(
        fn, device, bs.CLOCKS[clock], max_seconds, repeats
    )


def stss_section(settings, device, clock, max_seconds):
    """Rows ``(impl, fwd ms, fwd+bwd ms, peak fwd MB, peak fwd+bwd MB)``
    and ``(output + input)`` MB."""
    size = settings.stss_size
    n, t, c, h, w, length, u, v = size
    base = (n * t * length * u * v * h * w + n * t * c * h * w) * 4
    rows = {}
    for impl in ('ours', 'unfold'):
        cells = []
        for backward in (False, True):
            need = bs.estimated_bytes(impl, size, backward)
            if need > bs.available_bytes() / 2:
                cells.append((None, None))
                continue
            seconds = bs.time_case(
                impl, size, device, backward, bs.CLOCKS[clock], max_seconds
            )
            cells.append(
                (
                    1000 * seconds,
                    bs.memory_case(impl, size, device, backward) * MB,
                )
            )
        rows[impl] = cells
    return rows, base * MB


def _selfy_block(settings, device, impl='fast'):
    from selfy_mmaction.models.blocks.selfy import SELFYBlock

    torch.manual_seed(0)
    nt, c = settings.block_input[:2]
    block = SELFYBlock(c, 8, hidden_channels=settings.hidden, impl=impl).to(
        device
    )
    block.stss_integration.upsample.bn.weight.data.fill_(1)
    return block


def block_parts(block, x):
    """``{part: (function, input)}`` for the block and its three parts."""
    with torch.no_grad():
        similarity = block.stss_transformation(x)
        feats = block.stss_extraction(similarity)
    size = x.shape[-2:]
    return {
        'transformation (3x3 conv, L2 norm, STSS)': (
            block.stss_transformation,
            x,
        ),
        'extraction': (block.stss_extraction, similarity),
        'integration': (lambda f: block.stss_integration(f, size), feats),
        'SELFY block': (block, x),
    }


def block_section(settings, device, clock, max_seconds):
    """Rows ``(part, fwd ms, fwd+bwd ms, eval fwd ms, peak fwd+bwd MB)``;
    the last row is the block's plain formulation (``impl='reference'``,
    same weights)."""
    block = _selfy_block(settings, device)
    x = torch.randn(*settings.block_input, device=device)
    reference = _selfy_block(settings, device, impl='reference')
    parts = dict(block_parts(block, x))
    parts["SELFY block, impl='reference'"] = (reference, x)
    rows = []
    for name, (fn, inp) in parts.items():
        module = reference if fn is reference else block
        with torch.no_grad():
            grad = torch.randn_like(fn(inp))

        def forward():
            fn(inp.detach().requires_grad_())

        def forward_backward():
            fn(inp.detach().requires_grad_()).backward(grad)

        def inference():
            with torch.no_grad():
                fn(inp)

        module.train()
        fwd = _timed(forward, device, clock, max_seconds, settings.repeats)
        fwd_bwd = _timed(
            forward_backward, device, clock, max_seconds, settings.repeats
        )
        peak = bs.peak_bytes(forward_backward, device) * MB
        module.eval()
        infer = _timed(inference, device, clock, max_seconds, settings.repeats)
        module.train()
        rows.append((name, fwd, fwd_bwd, infer, peak))
    return rows


def block_profile(settings, device, top):
    """Tables of the ``top`` ops of the block's forward + backward
    (training mode) and eval forward, by self time."""
    from torch.profiler import ProfilerActivity, profile

    block = _selfy_block(settings, device)
    x = torch.randn(*settings.block_input, device=device)
    grad = torch.randn_like(x)
    activities = [ProfilerActivity.CPU]
    if device.startswith('cuda'):
        activities.append(ProfilerActivity.CUDA)
    sort = (
        'self_cuda_time_total'
        if device.startswith('cuda')
        else 'self_cpu_time_total'
    )
    tables = []
    for mode in ('train', 'eval'):
        block.train(mode == 'train')

        def step():
            if mode == 'train':
                block(x.detach().requires_grad_()).backward(grad)
            else:
                with torch.no_grad():
                    block(x)

        step()
        with profile(activities=activities) as prof:
            step()
            bs._sync(device)
        title = (
            'forward + backward, training mode'
            if mode == 'train'
            else 'forward, eval mode, no gradients'
        )
        tables.append(
            f'SELFY block {title} ({device}):\n'
            + prof.key_averages().table(sort_by=sort, row_limit=top)
        )
    return '\n\n'.join(tables)


def build_recognizer(config, settings, device):
    """The config's recognizer without pretrained weights (ResNet-18 in a
    quick run) and its optimizer wrapper."""
    from mmaction.registry import MODELS
    from mmengine.config import Config
    from mmengine.logging import MMLogger
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope

    import selfy_mmaction  # noqa: F401 (registers the plugin)

    init_default_scope('mmaction')
    # no per-parameter initialisation log
    MMLogger.get_current_instance().setLevel(logging.WARNING)
    cfg = Config.fromfile(config)
    model_cfg = without_pretrained(cfg.model.to_dict())
    if settings.depth != 50:
        model_cfg['backbone']['depth'] = settings.depth
        model_cfg['cls_head']['in_channels'] = 512
    torch.manual_seed(0)
    model = MODELS.build(model_cfg)
    model.init_weights()
    model.to(device)
    return model, build_optim_wrapper(model, cfg.optim_wrapper)


def _clip_data(batch, settings, device, num_classes):
    from mmaction.structures import ActionDataSample

    gen = torch.Generator().manual_seed(batch)
    size = settings.resolution
    inputs = [
        torch.randint(
            0, 256, (8, 3, size, size), dtype=torch.uint8, generator=gen
        ).to(device)
        for _ in range(batch)
    ]
    samples = [
        ActionDataSample().set_gt_label(k % num_classes) for k in range(batch)
    ]
    return dict(inputs=inputs, data_samples=samples)


def network_section(settings, device, clock):
    """TSM and SELFYNet timed in alternation (see
    ``benchmark_stss.time_interleaved``). Returns ``{model: {batch: (train
    ms, inference ms, peak train MB, peak inference MB)}}``, ``{model:
    {batch: (backbone fwd+bwd ms, backbone eval ms)}}`` and ``{name: ms}`` of
    one clip's forward + backward through the TSM backbone and through the
    SELFY block alone."""
    names = [f'TSM-R{settings.depth}', f'SELFYNet-TSM-R{settings.depth}']
    models = [
        build_recognizer(config, settings, device)
        for config in (TSM_CONFIG, SELFY_CONFIG)
    ]
    rows = {name: {} for name in names}
    for batch in settings.batches:
        steps = []
        for model, optim_wrapper in models:
            data = _clip_data(
                batch, settings, device, model.cls_head.num_classes
            )
            steps.append(
                (
                    _train_step(model, optim_wrapper, data),
                    _inference(model, data),
                )
            )
        trains = _interleaved(
            [s[0] for s in steps], device, clock, settings.net_repeats
        )
        infers = _interleaved(
            [s[1] for s in steps], device, clock, settings.net_repeats
        )
        for name, (train_step, inference), train, infer in zip(
            names, steps, trains, infers
        ):
            rows[name][batch] = (
                train,
                infer,
                bs.peak_bytes(train_step, device) * MB,
                bs.peak_bytes(inference, device) * MB,
            )
    backbones = {name: {} for name in names}
    for batch in settings.batches:
        frames = torch.randn(
            8 * batch,
            3,
            settings.resolution,
            settings.resolution,
            device=device,
        )
        fns = [
            _forward_backward(model.backbone, frames) for model, _ in models
        ]
        fns += [
            _backbone_inference(model.backbone, frames) for model, _ in models
        ]
        times = _interleaved(fns, device, clock, settings.net_repeats)
        for k, name in enumerate(names):
            backbones[name][batch] = (times[k], times[k + 2])
    block = _selfy_block(settings, device)
    block_input = torch.randn(*settings.block_input, device=device)
    first = models[0][0].backbone
    frames = torch.randn(
        8, 3, settings.resolution, settings.resolution, device=device
    )
    tsm_ms, block_ms = _interleaved(
        [
            _forward_backward(first, frames),
            _forward_backward(block, block_input),
        ],
        device,
        clock,
        settings.net_repeats,
    )
    for model, optim_wrapper in models:
        optim_wrapper.zero_grad()
    return rows, backbones, {names[0]: tsm_ms, 'SELFY block': block_ms}


def _train_step(model, optim_wrapper, data):

    def step():
        model.train()
        model.train_step(data, optim_wrapper)

    return step


def _inference(model, data):

    def step():
        model.eval()
        with torch.no_grad():
            model.test_step(data)

    return step


def _forward_backward(module, x):

    def step():
        module.train()
        out = module(x.detach().requires_grad_())
        out.backward(torch.ones_like(out))

    return step


def _backbone_inference(module, x):

    def step():
        module.eval()
        with torch.no_grad():
            module(x)

    return step


def _interleaved(fns, device, clock, repeats):
    return [
        1000 * t
        for t in bs.time_interleaved(fns, device, bs.CLOCKS[clock], repeats)
    ]


def ratios(stss_rows, block_rows, net_rows, backbones, backbone):
    """``(label, measured, target, met)`` rows."""
    out = []
    ours, unfold = stss_rows[0]['ours'], stss_rows[0]['unfold']
    speedup = (
        unfold[1][0] / ours[1][0] if unfold[1][0] and ours[1][0] else None
    )
    out.append(
        (
            'STSS op fwd+bwd speed-up over unfold',
            speedup,
            TARGETS['stss_speedup'],
            '>=',
        )
    )
    memory = ours[1][1] / stss_rows[1] if ours[1][1] else None
    out.append(
        (
            'STSS op fwd+bwd peak / (output + input)',
            memory,
            TARGETS['stss_memory'],
            '<=',
        )
    )
    names = list(net_rows)
    out.append(
        (
            f'SELFY block fwd+bwd / {names[0]} backbone fwd+bwd (one clip)',
            backbone['SELFY block'] / backbone[names[0]],
            TARGETS['block'],
            '<=',
        )
    )
    for batch in net_rows[names[0]]:
        tsm, selfy = net_rows[names[0]][batch], net_rows[names[1]][batch]
        out.append(
            (
                f'{names[1]} / {names[0]} training step, batch {batch}',
                selfy[0] / tsm[0],
                TARGETS['train'],
                '<=',
            )
        )
    for batch in net_rows[names[0]]:
        tsm, selfy = net_rows[names[0]][batch], net_rows[names[1]][batch]
        out.append(
            (
                f'{names[1]} / {names[0]} inference, batch {batch}',
                selfy[1] / tsm[1],
                TARGETS['inference'],
                '<=',
            )
        )
    for k, (what, target) in enumerate(
        (('fwd+bwd', 'backbone_train'), ('inference', 'backbone_inference'))
    ):
        for batch in backbones[names[0]]:
            tsm, selfy = backbones[names[0]][batch], backbones[names[1]][batch]
            out.append(
                (
                    f'{names[1]} / {names[0]} backbone {what}, batch {batch}',
                    selfy[k] / tsm[k],
                    TARGETS[target],
                    '<=',
                )
            )
    return [
        (
            label,
            value,
            target,
            '-'
            if value is None
            else (
                'yes'
                if (value >= target if sign == '>=' else value <= target)
                else 'no'
            ),
            sign,
        )
        for label, value, target, sign in out
    ]


def report(
    device, settings, stss_rows, block_rows, net_rows, backbones, backbone
):
    lines = [f'### {bs.device_name(device)} (torch {torch.__version__})', '']
    size = settings.stss_size
    lines += [
        f'STSS op, N, T, C, H x W, window = {size[0]}, {size[1]}, {size[2]},'
        f' {size[3]}x{size[4]}, {size[5]}x{size[6]}x{size[7]}; (output + '
        f'input) {stss_rows[1]:.1f} MB',
        '',
        '| impl | fwd ms | fwd+bwd ms | peak fwd MB | peak fwd+bwd MB | '
        'peak / (out + in) fwd, fwd+bwd |',
        '|---|---|---|---|---|---|',
    ]
    for impl, ((fwd, fwd_peak), (fb, fb_peak)) in stss_rows[0].items():
        ratio = ', '.join(
            _fmt(p and p / stss_rows[1], '.2f') for p in (fwd_peak, fb_peak)
        )
        lines.append(
            f'| {impl} | {_fmt(fwd)} | {_fmt(fb)} | '
            f'{_fmt(fwd_peak)} | {_fmt(fb_peak)} | {ratio} |'
        )
    lines += [
        '',
        f'SELFY block, one clip: input {tuple(settings.block_input)}, '
        f'hidden {settings.hidden}',
        '',
        '| part | train fwd ms | train fwd+bwd ms | eval fwd (no grad) ms |'
        ' peak fwd+bwd MB |',
        '|---|---|---|---|---|',
    ]
    for name, fwd, fb, infer, peak in block_rows:
        lines.append(
            f'| {name} | {fwd:.1f} | {fb:.1f} | {infer:.1f} | {peak:.1f} |'
        )
    res = settings.resolution
    lines += [
        '',
        f'Networks, 8 x {res} x {res} clips (training step: '
        "`train_step` with the config's SGD; inference: eval `test_step`)",
        '',
        '| model | clips | training step ms | inference ms | '
        'peak training MB | peak inference MB |',
        '|---|---|---|---|---|---|',
    ]
    for name, per_batch in net_rows.items():
        for batch, (train, infer, train_peak, infer_peak) in per_batch.items():
            lines.append(
                f'| {name} | {batch} | {train:.0f} | {infer:.0f} | '
                f'{train_peak:.0f} | {infer_peak:.0f} |'
            )
    lines += [
        '',
        'Backbones alone, timed in alternation (fwd+bwd: train mode, '
        'gradient into the frames; inference: eval, no gradients)',
        '',
        '| backbone | clips | fwd+bwd ms | inference ms |',
        '|---|---|---|---|',
    ]
    for name, per_batch in backbones.items():
        for batch, (fb, infer) in per_batch.items():
            lines.append(f'| {name} | {batch} | {fb:.0f} | {infer:.0f} |')
    lines += [
        '',
        "One clip's forward + backward, timed in alternation: "
        + ', '.join(
            f'{name} {"" if name == "SELFY block" else "backbone "}{ms:.0f} ms'
            for name, ms in backbone.items()
        ),
    ]
    lines += ['', '| ratio | measured | target | met |', '|---|---|---|---|']
    if settings.quick:
        lines.insert(
            -2,
            '(--quick: tiny shapes and ResNet-18; the ratios '
            'say nothing about the targets)',
        )
        lines.insert(-2, '')
    for label, value, target, met, sign in ratios(
        stss_rows, block_rows, net_rows, backbones, backbone
    ):
        lines.append(
            f'| {label} | {_fmt(value, ".3f")} | {sign} {target} | {met} |'
        )
    return '\n'.join(lines)


def _loadavg():
    return ', '.join(f'{v:.2f}' for v in os.getloadavg())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--quick',
        action='store_true',
        help='tiny shapes, ResNet-18 at 64 px (seconds)',
    )
    parser.add_argument(
        '--device', default='all', choices=('cpu', 'cuda', 'all')
    )
    parser.add_argument(
        '--threads',
        type=int,
        default=None,
        help='torch CPU threads (default: torch default)',
    )
    parser.add_argument('--clock', default='wall', choices=tuple(bs.CLOCKS))
    parser.add_argument(
        '--max-seconds',
        type=float,
        default=30.0,
        help='timing budget per measurement',
    )
    parser.add_argument(
        '--profile',
        type=int,
        default=0,
        metavar='N',
        help="print the block's N most expensive ops",
    )
    parser.add_argument('--out', help='also write the report (markdown)')
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    settings = Settings(args.quick)
    devices, notes = [], []
    if args.device in ('cpu', 'all'):
        devices.append('cpu')
    if args.device in ('cuda', 'all'):
        if torch.cuda.is_available():
            devices.append('cuda')
        else:
            notes.append(
                'CUDA: not run (torch.cuda.is_available() is False'
                ' on this machine).'
            )
    if 'cuda' in devices and args.clock == 'cpu':
        parser.error('--clock cpu does not time CUDA kernels')
    started = datetime.datetime.now(datetime.timezone.utc)
    header = [
        '## SELFY benchmark',
        '',
        f'Command: `python tools/analysis/benchmark_selfy.py '
        f'{" ".join(argv if argv is not None else sys.argv[1:])}`',
        f'Started {started:%Y-%m-%d %H:%M} UTC; {os.cpu_count()} CPU cores, '
        f'torch threads {torch.get_num_threads()}; {args.clock} clock; '
        f'load average (1, 5, 15 min) at start: {_loadavg()}; allocator '
        'settings: GLIBC_TUNABLES='
        + os.environ.get('GLIBC_TUNABLES', '(unset)'),
        '',
    ]
    print('\n'.join(header), flush=True)
    sections = []
    for device in devices:
        stss_rows = stss_section(
            settings, device, args.clock, args.max_seconds
        )
        block_rows = block_section(
            settings, device, args.clock, args.max_seconds
        )
        net_rows, backbones, backbone = network_section(
            settings, device, args.clock
        )
        sections.append(
            report(
                device,
                settings,
                stss_rows,
                block_rows,
                net_rows,
                backbones,
                backbone,
            )
        )
        print(sections[-1] + '\n', flush=True)
        if args.profile:
            sections.append(
                '```\n'
                + block_profile(settings, device, args.profile)
                + '\n```'
            )
            print(sections[-1] + '\n', flush=True)
    footer = notes + [f'Load average at end: {_loadavg()}']
    print('\n'.join(footer))
    if args.out:
        with open(args.out, 'w') as f:
            f.write('\n'.join(header + sections + [''] + footer) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
