"""Seeded fuzz cases, run in a subprocess by test_fuzz.py.

    python fuzz_cases.py {model,selfy,data} SEED NUM_CASES WORKDIR

Prints one JSON line per case: ``{"case", "desc", "outcome", "error",
"problem"}``. ``outcome`` is ``ok`` or ``error`` (a Python exception);
``problem`` is set when the result breaks the case's oracle (an error where a
result was due, a result where an error was due, a non-finite output from
finite input). faulthandler turns a hang (``CASE_TIMEOUT`` s) or a crash into
a traceback and a non-zero exit, which the test reports with the last case.
"""

import faulthandler
import json
import os
import os.path as osp
import re
import sys

import numpy as np
import torch

CASE_TIMEOUT = 60
DTYPES = [
    torch.uint8,
    torch.float32,
    torch.float16,
    torch.float64,
    torch.int64,
    torch.bool,
]


def _report(case, desc, outcome, error='', problem=''):
    print(
        json.dumps(
            dict(
                case=case,
                desc=desc,
                outcome=outcome,
                error=error,
                problem=problem,
            )
        ),
        flush=True,
    )


def _run(case, desc, fn, expect_ok=None, allowed=(Exception,)):
    """Run ``fn`` (returns a problem or None); ``expect_ok``: True, False or
    None (either is fine); ``allowed``: the exception types that count as a
    clear error."""
    faulthandler.dump_traceback_later(CASE_TIMEOUT, exit=True)
    print(json.dumps(dict(start=case, desc=desc)), flush=True)
    try:
        problem = fn() or ''
    except Exception as err:  # noqa: BLE001 (the outcome is what we test)
        faulthandler.cancel_dump_traceback_later()
        problem = ''
        if expect_ok:
            problem = 'raised where a result was due'
        elif not isinstance(err, allowed):
            problem = f'{type(err).__name__} is not one of the clear errors'
        elif not str(err).strip():
            problem = 'exception without a message'
        _report(
            case, desc, 'error', f'{type(err).__name__}: {err}'[:400], problem
        )
        return
    faulthandler.cancel_dump_traceback_later()
    if expect_ok is False:
        problem = problem or 'a result where an error was due'
    _report(case, desc, 'ok', '', problem)


# ------------------------------------------------------------------ model


def _recognizer():
    from mmaction.registry import MODELS
    from mmengine.config import Config

    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = Config.fromfile(
        osp.join(repo, 'configs', '_base_', 'models', 'tsm_r18_motion.py')
    )
    return MODELS.build(cfg.model)


def model_cases(seed, num_cases):
    from mmaction.structures import ActionDataSample

    model = _recognizer()
    pristine = {k: v.clone() for k, v in model.state_dict().items()}
    rng = np.random.default_rng(seed)
    for case in range(num_cases):
        # a poisoned training batch leaves NaN in BN running statistics;
        # every case starts from the same weights
        model.load_state_dict(pristine)
        n = int(rng.choice([0, 1, 2, 2, 3]))
        frames = int(rng.choice([1, 4, 7, 8, 8, 8, 12, 16]))
        channels = int(rng.choice([1, 3, 3, 4]))
        h, w = (int(v) for v in rng.integers(1, 41, size=2))
        dtype = DTYPES[int(rng.integers(len(DTYPES)))]
        poison = str(rng.choice(['none', 'none', 'nan', 'inf']))
        train = bool(rng.random() < 0.3)
        x = torch.from_numpy(rng.uniform(0, 255, (n, frames, channels, h, w)))
        if poison != 'none' and x.numel() and dtype.is_floating_point:
            x.view(-1)[int(rng.integers(x.numel()))] = float(poison)
        else:
            poison = 'none'
        x = x.to(dtype)
        desc = (
            f'{"train" if train else "test"} N={n} F={frames} '
            f'C={channels} {h}x{w} {dtype} poison={poison}'
        )
        # NCHW recognizer, T=8: test takes F a multiple of 8, training
        # exactly 8; the normaliser broadcasts C=1 (grey) but not C=4;
        # float64 meets float32 weights and bool cannot be normalised
        shape_ok = (
            n >= 1
            and channels in (1, 3)
            and frames % 8 == 0
            and frames >= 8
            and (frames == 8 or not train)
        )
        expect = None if dtype in (torch.float64, torch.bool) else shape_ok
        samples = [ActionDataSample().set_gt_label(0) for _ in range(n)]
        batch = dict(inputs=list(x), data_samples=samples)

        def run(batch=batch, train=train, poison=poison):
            if train:
                model.train()
                data = model.data_preprocessor(batch, training=True)
                loss = model(**data, mode='loss')['loss_cls']
                if poison == 'none' and not torch.isfinite(loss):
                    return f'non-finite loss {loss} from finite input'
                return None
            model.eval()
            with torch.no_grad():
                out = model.test_step(batch)
            if len(out) != len(batch['data_samples']):
                return f'{len(out)} predictions for {n} samples'
            for sample, pred in zip(batch['inputs'], out):
                finite_in = bool(torch.isfinite(sample.double()).all())
                if finite_in and not torch.isfinite(pred.pred_score).all():
                    return 'non-finite score from finite input'
            return None

        _run(case, desc, run, expect)


# ------------------------------------------------------------------ SELFY

SELFY_VARIANTS = [  # (extraction, window, stride), small channels
    ('conv', (3, 5, 5), 2),
    ('mlp', (3, 3, 3), 1),
    ('softargmax', (5, 9, 9), 2),
    ('conv', (1, 1, 1), 1),
]


def selfy_cases(seed, num_cases):
    from selfy_mmaction.models.blocks.selfy import SELFYBlock

    blocks = [
        SELFYBlock(
            8,
            num_segments=4,
            hidden_channels=8,
            window=window,
            stride=stride,
            extraction=extraction,
            extraction_channels=(4, 8, 8, 8),
            integration_channels=(8, 8, 8, 8),
            zero_init_last=False,
        )
        for extraction, window, stride in SELFY_VARIANTS
    ]
    pristine = [
        {k: v.clone() for k, v in b.state_dict().items()} for b in blocks
    ]
    rng = np.random.default_rng(seed)
    for case in range(num_cases):
        which = int(rng.integers(len(blocks)))
        block = blocks[which]
        block.load_state_dict(pristine[which])
        # each property is valid most of the time, so that about half of
        # the cases are valid inputs
        n = int(rng.choice([0] + [1, 2, 3] * 4))
        frames = int(rng.choice([1, 3, 8] + [4] * 12))
        channels = int(rng.choice([4, 9] + [8] * 12))
        h, w = (int(v) for v in rng.integers(1, 18, size=2))
        ndim = int(rng.choice([3, 5] + [4] * 12))
        dtype = ([torch.float64, torch.int64] + [torch.float32] * 12)[
            int(rng.integers(14))
        ]
        poison = str(rng.choice(['none', 'none', 'nan', 'inf', '-inf']))
        train = bool(rng.random() < 0.4)
        shape = (n * frames, channels, h, w)
        shape = shape[:3] if ndim == 3 else shape + (2,) * (ndim - 4)
        x = torch.from_numpy(rng.standard_normal(shape))
        if poison != 'none' and x.numel() and dtype.is_floating_point:
            x.view(-1)[int(rng.integers(x.numel()))] = float(poison)
        else:
            poison = 'none'
        x = x.to(dtype)
        extraction, window, stride = SELFY_VARIANTS[which]
        desc = (
            f'{extraction} window={window} stride={stride} '
            f'{"train" if train else "eval"} input {tuple(shape)} '
            f'(N={n} x {frames} frames, T=4) {dtype} poison={poison}'
        )
        # (N*T, 8, H, W) float32 with N*T a positive multiple of T=4
        valid = (
            ndim == 4
            and channels == 8
            and n * frames > 0
            and n * frames % 4 == 0
            and dtype == torch.float32
        )
        expect = None if n == 0 else valid

        def run(block=block, x=x, train=train, poison=poison):
            block.train(train)
            with torch.no_grad():
                y = block(x)
            if y.shape != x.shape:
                return f'output {tuple(y.shape)} for input {tuple(x.shape)}'
            if poison == 'none' and not torch.isfinite(y).all():
                return 'non-finite output from finite input'
            return None

        _run(case, desc, run, expect)


# ------------------------------------------------------------------- data

PIPELINE = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=8),
    dict(type='DecordDecode'),
    dict(type='RandomResizedCrop', area_range=(0.5, 1.0)),
    dict(type='Resize', scale=(16, 16), keep_ratio=False),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]
FRAME_PIPELINE = [
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=4),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(16, 16), keep_ratio=False),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]
VALID_LINE = re.compile(r'^[^ ]+ \d+$')
DECORD_BAD_SIZES = {8, 9, 12, 13, 16, 17, 24, 25, 48, 49, 72, 73}


def _check_sample(sample, frames):
    shape = tuple(sample['inputs'].shape)
    if shape != (frames, 3, 16, 16) or sample['inputs'].dtype != torch.uint8:
        return f'unexpected sample {shape} {sample["inputs"].dtype}'
    return None


def data_cases(seed, num_cases, workdir):
    import cv2

    from selfy_mmaction.datasets import (
        CheckedRawframeDataset,
        CheckedVideoDataset,
        MotionDatasetSpec,
        render_clip,
    )
    from selfy_mmaction.datasets.checked import (
        AnnotationError,
        SampleLoadError,
    )
    from selfy_mmaction.datasets.motion import write_video

    rng = np.random.default_rng(seed)
    good = osp.join(workdir, 'good.mp4')
    write_video(good, render_clip(0, rng, MotionDatasetSpec(size=32)), 8)
    good_bytes = open(good, 'rb').read()
    for case in range(num_cases):
        kind = str(
            rng.choice(
                [
                    'bytes',
                    'truncated',
                    'bitflip',
                    'odd_clip',
                    'ann_line',
                    'frames',
                ]
            )
        )
        path = osp.join(workdir, f'case{case}.mp4')
        ann = osp.join(workdir, f'case{case}.txt')
        expect, desc = None, kind
        if kind == 'bytes':
            size = int(rng.integers(0, 4000))
            open(path, 'wb').write(rng.bytes(size))
            desc += f' {size} random bytes'
        elif kind == 'truncated':
            cut = int(rng.integers(0, len(good_bytes)))
            open(path, 'wb').write(good_bytes[:cut])
            desc += f' at {cut}/{len(good_bytes)}'
        elif kind == 'bitflip':
            data = bytearray(good_bytes)
            for pos in rng.integers(
                0, len(data), size=int(rng.integers(1, 20))
            ):
                data[pos] ^= 1 << int(rng.integers(8))
            open(path, 'wb').write(bytes(data))
        elif kind == 'odd_clip':
            frames, size = int(rng.integers(1, 20)), int(rng.integers(8, 48))
            spec = MotionDatasetSpec(num_frames=frames, size=size)
            write_video(path, render_clip(int(rng.integers(8)), rng, spec), 8)
            desc += f' {frames} frames {size}px'
            # decord 0.6 fails (DECORDError) on OpenCV mp4v files 8, 12, 16,
            # 24, 48, 72 px wide (and odd sizes rounded down to them)
            expect = True if size not in DECORD_BAD_SIZES else None
        if kind == 'ann_line':
            alphabet = list('ab.4 7-x\t') + ['', ' ']
            line = ''.join(rng.choice(alphabet, size=int(rng.integers(0, 12))))
            line = (
                f'good.mp4 {int(rng.integers(8))}'
                if rng.random() < 0.3
                else line
            )
            open(ann, 'w').write(line + '\n')
            desc += f' {line!r}'
            # a result only for a well-formed line naming the one video that
            # exists with a label < 8; anything else must be a clear error
            expect = (
                bool(VALID_LINE.match(line))
                and line.split()[0] == 'good.mp4'
                and int(line.split()[1]) < 8
            )

            def run(ann=ann):
                ds = CheckedVideoDataset(
                    ann,
                    pipeline=PIPELINE,
                    num_classes=8,
                    data_prefix=dict(video=workdir),
                )
                return _check_sample(ds[0], 8)
        elif kind == 'frames':
            frame_dir = osp.join(workdir, f'frames{case}')
            os.makedirs(frame_dir)
            total = int(rng.integers(1, 6))
            broken = int(rng.integers(0, total + 1))  # index; total: none
            for i in range(1, total + 1):
                img = rng.integers(0, 256, (12, 12, 3), dtype=np.uint8)
                data = cv2.imencode('.jpg', img)[1].tobytes()
                if i == broken:
                    data = data[: int(rng.integers(0, len(data)))]
                open(osp.join(frame_dir, f'img_{i:05d}.jpg'), 'wb').write(data)
            claimed = total + int(rng.integers(0, 2))  # maybe one missing
            open(ann, 'w').write(f'frames{case} {claimed} 1\n')
            desc += (
                f' {total} frames of {claimed} listed, frame {broken} '
                f'truncated'
            )
            expect = True if broken == 0 and claimed == total else None

            def run(ann=ann):
                ds = CheckedRawframeDataset(
                    ann,
                    pipeline=FRAME_PIPELINE,
                    data_prefix=dict(img=workdir),
                    start_index=1,
                    test_mode=True,
                )
                return _check_sample(ds[0], 4)
        else:
            open(ann, 'w').write(f'case{case}.mp4 1\n')

            def run(ann=ann):
                ds = CheckedVideoDataset(
                    ann,
                    pipeline=PIPELINE,
                    data_prefix=dict(video=workdir),
                    test_mode=True,
                )
                return _check_sample(ds[0], 8)

        _run(case, desc, run, expect, (SampleLoadError, AnnotationError))


def main():
    faulthandler.enable()
    which, seed, num_cases = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    from mmengine.registry import init_default_scope

    import selfy_mmaction  # noqa: F401

    init_default_scope('mmaction')
    torch.manual_seed(seed)
    if which == 'model':
        model_cases(seed, num_cases)
    elif which == 'selfy':
        selfy_cases(seed, num_cases)
    else:
        data_cases(seed, num_cases, sys.argv[4])


if __name__ == '__main__':
    main()
