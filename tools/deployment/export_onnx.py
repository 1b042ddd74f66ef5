"""Export a recognizer's backbone + head (class scores) to ONNX.

    python tools/deployment/export_onnx.py CONFIG [CHECKPOINT]
        --shape N C H W --out model.onnx [--verify] [--atol 1e-4]
        [--opset 17] [--cfg-options key=value ...]

The graph is the recognizer's ``_forward(inputs, stage='head')``: raw class
scores (logits, before the test-time softmax) of normalised input frames,
i.e. after ``ActionDataPreprocessor`` (mean/std are not in the graph).
``--shape`` is the ONNX input:

* ``N C H W``: the ``N`` frames of one clip (``N`` = frames the config
  samples per clip, e.g. 8, or 5 x 8 for TDN); output ``(1, classes)``;
* ``B T C H W`` (Recognizer2D) or ``B V C T H W`` (Recognizer3D): the
  recognizer's batched input as is; output ``(B * V, classes)``.

Shapes are static (the STSS/correlation ops unroll over the window).
``torch.onnx.export`` (TorchScript exporter) writes standard opset-17 ops
only: the export fails if any node is in a custom domain. ``--verify`` runs
the file in onnxruntime on a random input and compares the logits with
PyTorch (prints the max abs difference; fails above ``--atol``).
Without CHECKPOINT the model keeps its initial weights.
"""
import argparse
import os
import os.path as osp

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config, DictAction

STANDARD_DOMAINS = ('', 'ai.onnx')


class ScoreModel(nn.Module):
    """``inputs -> recognizer._forward(inputs, stage='head')``; 4-D frames
    ``(N, C, H, W)`` are one clip (``(1, N, C, H, W)``)."""

    def __init__(self, recognizer: nn.Module, frames: bool):
        super().__init__()
        self.recognizer = recognizer
        self.frames = frames

    def forward(self, inputs):
        if self.frames:
            inputs = inputs.unsqueeze(0)
        return self.recognizer._forward(inputs, stage='head')


def build_model(config, checkpoint=None, cfg_options=None):
    """The recognizer in eval mode on the CPU (``init_recognizer``)."""
    from mmaction.apis import init_recognizer
    cfg = config if isinstance(config, Config) else Config.fromfile(config)
    cfg.merge_from_dict(cfg_options or {})
    if checkpoint is not None and not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint {checkpoint!r} does not exist')
    return init_recognizer(cfg, checkpoint, device='cpu')


def check_shape(model: nn.Module, shape):
    shape = tuple(int(s) for s in shape)
    if len(shape) not in (4, 5, 6) or min(shape) < 1:
        raise ValueError(f'--shape must be N C H W (frames of one clip), or '
                         f'the recognizer input B T C H W (2D) / B V C T H W '
                         f'(3D), all >= 1; got {shape}')
    channel = 1 if len(shape) == 4 else 2
    expected = getattr(getattr(model, 'backbone', None), 'in_channels', 3)
    if shape[channel] != expected:
        raise ValueError(f'--shape {shape}: dimension {channel} is the '
                         f'{expected} image channels of the backbone, got '
                         f'{shape[channel]}')
    return shape


def export(model: nn.Module, shape, out: str, opset: int = 17):
    """Trace ``ScoreModel(model)`` on a ``shape`` input into ``out``; check
    the file and that every op is a standard ONNX op. Returns the
    ``ScoreModel``."""
    import onnx
    shape = check_shape(model, shape)
    wrapper = ScoreModel(model, frames=len(shape) == 4).eval()
    dummy = torch.randn(shape)
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(wrapper, (dummy, ), out, dynamo=False,
                          opset_version=opset, input_names=['inputs'],
                          output_names=['cls_score'])
    graph = onnx.load(out)
    onnx.checker.check_model(graph)
    custom = sorted({f'{n.domain}::{n.op_type}' for n in graph.graph.node
                     if n.domain not in STANDARD_DOMAINS})
    if custom:
        raise RuntimeError(f'{out} uses non-standard ONNX ops {custom}')
    return wrapper


def verify(wrapper: nn.Module, out: str, shape, seed: int = 0) -> dict:
    """Logits of onnxruntime vs PyTorch on one random normal input:
    ``dict(max_abs_diff, max_abs_logit)``."""
    import onnxruntime as ort
    inputs = torch.randn(tuple(shape),
                         generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        expected = wrapper(inputs).numpy()
    session = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    (actual, ) = session.run(None, {'inputs': inputs.numpy()})
    if actual.shape != expected.shape:
        raise RuntimeError(f'onnxruntime output shape {actual.shape} != '
                           f'PyTorch {expected.shape}')
    return dict(max_abs_diff=float(np.abs(actual - expected).max()),
                max_abs_logit=float(np.abs(expected).max()))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', nargs='?')
    parser.add_argument('--shape', type=int, nargs='+', required=True,
                        help='N C H W (frames of one clip) or the '
                        'recognizer input B T C H W / B V C T H W')
    parser.add_argument('--out', default='model.onnx')
    parser.add_argument('--opset', type=int, default=17)
    parser.add_argument('--verify', action='store_true',
                        help='compare onnxruntime with PyTorch')
    parser.add_argument('--atol', type=float, default=1e-4,
                        help='max abs logit difference --verify accepts')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        default={}, help='override config entries')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    model = build_model(args.config, args.checkpoint, args.cfg_options)
    wrapper = export(model, args.shape, args.out, args.opset)
    print(f'wrote {args.out} ({osp.getsize(args.out) / 2**20:.1f} MiB, '
          f'opset {args.opset}, input {tuple(args.shape)})')
    if not args.verify:
        return None
    result = verify(wrapper, args.out, args.shape)
    print(f'onnxruntime vs PyTorch: max abs logit difference '
          f'{result["max_abs_diff"]:.3g} (logits up to '
          f'{result["max_abs_logit"]:.3g}, tolerance {args.atol:g})')
    if not result['max_abs_diff'] <= args.atol:
        raise SystemExit(f'verification failed: max abs difference '
                         f'{result["max_abs_diff"]:.3g} > {args.atol:g}')
    return result


if __name__ == '__main__':
    main()
