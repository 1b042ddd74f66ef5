"""Time and memory of the local space-time correlation (SELFY's STSS).

    python tools/analysis/benchmark_stss.py [--quick] [--device cpu|cuda|all]
        [--threads 1] [--clock wall|cpu]

Three implementations of ``stss(x, (L, U, V))`` on L2-normalised
``(N, T, C, H, W)`` features:

* ``ours``: :func:`selfy_mmaction.ops.stss` (row-batched matrix products,
  streaming backward).
* ``plain``: :func:`selfy_mmaction.ops.stss_reference`, the definition (one
  zero-padded shift-multiply-sum per window offset, ``L*U*V`` of them),
  autograd backward.
* ``unfold``: the common ``F.unfold`` formulation, the baseline of the op's
  speed target (issue #12), not a reference: per temporal offset,
  ``F.unfold`` of the key frames into ``C*U*V`` columns per position,
  multiplied by the query and summed over ``C``; autograd keeps the
  ``C*U*V`` columns for the backward.

For each: the median time of the forward and of forward + backward over up
to three runs after one warm-up (wall clock, or with ``--clock cpu`` the
process's CPU time, which other jobs on a shared machine disturb less), and
the peak memory above the inputs (``x`` and the output gradient) during one
run: on CPU the peak of the running sum of torch's allocations and frees
recorded by ``torch.profiler(profile_memory=True)`` (memory that libraries
allocate outside torch is not seen), on CUDA
``torch.cuda.max_memory_allocated``. The table also gives
``peak / (output + input)`` and the largest difference to ``ours``. Cases
whose estimated memory exceeds half the available memory are skipped. Default sizes: SELFY after ResNet-50 layer2 at 224 px (N=8
clips, T=8, C=128, 14x14, window 5x9x9) and the same at T=16; ``--quick``
uses small sizes.
"""

import argparse
import platform
import statistics
import sys
import time

import torch
import torch.nn.functional as F

IMPLEMENTATIONS = ('ours', 'plain', 'unfold')
# wall: elapsed time; cpu: CPU time of this process (all its threads), which
# a machine shared with other jobs disturbs less
CLOCKS = dict(wall=time.perf_counter, cpu=time.process_time)


def unfold_stss(x, window):
    """``C*U*V`` columns per position and temporal offset."""
    n, t, c, h, w = x.shape
    length, u_size, v_size = window
    pt = length // 2
    padded = F.pad(x, (0, 0, 0, 0, 0, 0, pt, pt))
    query = x.reshape(n * t, c, 1, h * w)
    out = []
    for i in range(length):
        key = padded[:, i : i + t].reshape(n * t, c, h, w)
        cols = F.unfold(
            key, (u_size, v_size), padding=(u_size // 2, v_size // 2)
        )
        cols = cols.view(n * t, c, u_size * v_size, h * w)
        out.append((cols * query).sum(1))
    return torch.stack(out, 1).view(n, t, length, u_size, v_size, h, w)


def run(impl, x, window):
    from selfy_mmaction.ops.stss import stss, stss_reference

    fn = dict(ours=stss, plain=stss_reference, unfold=unfold_stss)[impl]
    return fn(x, window)


def make_inputs(size, device, seed=0):
    n, t, c, h, w, length, u, v = size
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, t, c, h, w, generator=gen)
    x = x / torch.sqrt((x * x).sum(2, keepdim=True) + 1e-6)
    grad = torch.randn(n, t, length, u, v, h, w, generator=gen)
    return x.to(device), grad.to(device)


def _sync(device):
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def time_fn(fn, device, clock=time.perf_counter, max_seconds=20.0, repeats=3):
    """Median seconds of ``fn()`` over up to ``repeats`` runs after one
    warm-up (fewer when a run is slow; CUDA synchronised)."""
    times = []
    for i in range(repeats + 1):
        _sync(device)
        start = clock()
        fn()
        _sync(device)
        elapsed = clock() - start
        if i > 0:
            times.append(elapsed)
        if sum(times) + elapsed > max_seconds and times:
            break
        if i == 0 and elapsed * repeats > max_seconds:
            times.append(elapsed)  # too slow for more: the warm-up run
            break
    return statistics.median(times)


def time_interleaved(fns, device, clock=time.perf_counter, repeats=3):
    """Median seconds of each of ``fns`` over ``repeats`` rounds that run
    every function once, in turn, after one warm-up round: slow drifts of a
    shared machine hit all of them alike."""
    times = [[] for _ in fns]
    for round_ in range(repeats + 1):
        for fn, seconds in zip(fns, times):
            _sync(device)
            start = clock()
            fn()
            _sync(device)
            if round_ > 0:
                seconds.append(clock() - start)
    return [statistics.median(seconds) for seconds in times]


def time_case(
    impl, size, device, backward, clock=time.perf_counter, max_seconds=20.0
):
    """Median seconds of up to 3 runs after one warm-up (fewer when a run
    is slow)."""
    x, grad = make_inputs(size, device)

    def step():
        out = run(impl, x.detach().requires_grad_(backward), size[5:])
        if backward:
            out.backward(grad)

    return time_fn(step, device, clock, max_seconds)


def _profiled_peak(fn):
    """Peak of the bytes allocated by torch on the CPU while ``fn`` runs
    (running sum of the profiler's allocation and free events)."""
    from torch.profiler import ProfilerActivity, profile

    with profile(
        activities=[ProfilerActivity.CPU], profile_memory=True
    ) as prof:
        fn()
    events = [
        (e.start_ns(), e.nbytes())
        for e in prof.profiler.kineto_results.events()
        if e.name() == '[memory]'
    ]
    current = peak = 0
    for _, nbytes in sorted(events):
        current += nbytes
        peak = max(peak, current)
    return peak


def peak_bytes(fn, device):
    """Peak bytes allocated by torch while ``fn()`` runs, above what was
    allocated before: on CPU from the profiler's allocation events, on CUDA
    ``torch.cuda.max_memory_allocated``."""
    if not device.startswith('cuda'):
        return _profiled_peak(fn)
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    fn()
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() - base


def memory_case(impl, size, device, backward):
    """Peak bytes above the inputs (``x`` and the output gradient) during
    one forward (+ backward)."""
    x, grad = make_inputs(size, device)
    leaf = x.requires_grad_(backward)

    def step():
        out = run(impl, leaf, size[5:])
        if backward:
            out.backward(grad)

    return peak_bytes(step, device)


def estimated_bytes(impl, size, backward):
    """Rough peak of each implementation (to skip what cannot fit)."""
    n, t, c, h, w, length, u, v = size
    inp = n * t * c * h * w * 4
    out = n * t * length * u * v * h * w * 4
    if impl == 'unfold':
        cols = inp * u * v
        return out + (length + 2) * cols if backward else out + 2 * cols
    if impl == 'plain':
        return 4 * out + 2 * inp if backward else 2 * out + 2 * inp
    return 2 * out + 4 * inp


def available_bytes():
    with open('/proc/meminfo') as f:
        for line in f:
            if line.startswith('MemAvailable:'):
                return int(line.split()[1]) * 1024
    return 1 << 34


def device_name(device):
    if device.startswith('cuda'):
        return torch.cuda.get_device_name(device)
    cpu = platform.processor() or 'CPU'
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    return f'{cpu}, {torch.get_num_threads()} threads'


def max_difference(impl, size, device):
    x, _ = make_inputs(size, device)
    with torch.no_grad():
        return (
            (run(impl, x, size[5:]) - run('ours', x, size[5:]))
            .abs()
            .max()
            .item()
        )


def benchmark(sizes, devices, implementations, clock='wall'):
    mb = 1 / 2**20
    lines = []
    for device in devices:
        lines += [
            '',
            f'Device: {device_name(device)} (torch '
            f'{torch.__version__}); times: {clock} clock',
            '',
            '| N, T, C, H x W, window | impl | fwd ms | fwd+bwd ms | '
            'fwd peak MB | fwd+bwd peak MB | (output + input) MB | '
            'peak / (out + in) fwd, fwd+bwd | max diff to ours |',
            '|---|---|---|---|---|---|---|---|---|',
        ]
        for size in sizes:
            n, t, c, h, w, length, u, v = size
            base = (n * t * length * u * v * h * w + n * t * c * h * w) * 4
            label = f'{n}, {t}, {c}, {h}x{w}, {length}x{u}x{v}'
            for impl in implementations:
                cells, peaks = [], []
                for backward in (False, True):
                    need = estimated_bytes(impl, size, backward)
                    if need > available_bytes() / 2:
                        cells.append(f'skipped (~{need * mb:.0f} MB)')
                        peaks.append(None)
                        continue
                    seconds = time_case(
                        impl, size, device, backward, CLOCKS[clock]
                    )
                    cells.append(f'{1000 * seconds:.1f}')
                    peaks.append(memory_case(impl, size, device, backward))
                diff = max_difference(impl, size, device) if peaks[0] else None
                peak_cells = [
                    '-' if p is None else f'{p * mb:.1f}' for p in peaks
                ]
                ratio = ', '.join(
                    '-' if p is None else f'{p / base:.2f}' for p in peaks
                )
                diff_cell = '-' if diff is None else f'{diff:.1e}'
                lines.append(
                    f'| {label} | {impl} | {cells[0]} | {cells[1]} | '
                    f'{peak_cells[0]} | {peak_cells[1]} | '
                    f'{base * mb:.1f} | {ratio} | {diff_cell} |'
                )
                print(lines[-1], file=sys.stderr, flush=True)
    return '\n'.join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--quick', action='store_true', help='small sizes (seconds)'
    )
    parser.add_argument(
        '--device', default='all', choices=('cpu', 'cuda', 'all')
    )
    parser.add_argument(
        '--impl',
        nargs='+',
        default=list(IMPLEMENTATIONS),
        choices=IMPLEMENTATIONS,
    )
    parser.add_argument(
        '--clock',
        default='wall',
        choices=tuple(CLOCKS),
        help='wall (default) or cpu: CPU time of the process, '
        'for machines shared with other jobs (with --threads '
        '1 it is the single-thread time)',
    )
    parser.add_argument(
        '--threads',
        type=int,
        default=None,
        help='torch CPU threads (default: torch default)',
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.quick:
        sizes = [(2, 4, 32, 8, 8, 5, 9, 9), (2, 8, 32, 7, 9, 3, 5, 5)]
    else:
        sizes = [(8, 8, 128, 14, 14, 5, 9, 9), (8, 16, 128, 14, 14, 5, 9, 9)]
    devices = []
    if args.device in ('cpu', 'all'):
        devices.append('cpu')
    if args.device in ('cuda', 'all') and torch.cuda.is_available():
        devices.append('cuda')
    if 'cuda' in devices and args.clock == 'cpu':
        parser.error('--clock cpu does not time CUDA kernels')
    print(benchmark(sizes, devices, args.impl, args.clock))
    return 0


if __name__ == '__main__':
    sys.exit(main())
