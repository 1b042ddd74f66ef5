"""A recognizer's backbone + head (class scores) as a standard ONNX graph
(the command line is ``tools/deployment/export_onnx.py``).

The graph is the recognizer's ``_forward(inputs, stage='head')``: raw class
scores (logits, before the test-time softmax) of normalised input frames,
i.e. after ``ActionDataPreprocessor`` (mean/std are not in the graph). The
input ``shape`` is

* ``N C H W``: the ``N`` frames of one clip (``N`` = frames the config
  samples per clip, e.g. 8, or 5 x 8 for TDN); output ``(1, classes)``;
* ``B T C H W`` (Recognizer2D) or ``B V C T H W`` (Recognizer3D): the
  recognizer's batched input as is; output ``(B * V, classes)``.

Shapes are static (the STSS/correlation ops unroll over the window).
``torch.onnx.export`` (TorchScript exporter) writes standard opset-17 ops
only: :func:`export` fails if any node is in a custom domain. :func:`verify`
runs the file in onnxruntime on a random input and compares the logits with
PyTorch.
"""

import os
import os.path as osp

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config

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
    """``shape`` as a tuple of ints, checked against the ranks above and the
    backbone's image channels."""
    shape = tuple(int(s) for s in shape)
    if len(shape) not in (4, 5, 6) or min(shape) < 1:
        raise ValueError(
            f'shape must be N C H W (frames of one clip), or '
            f'the recognizer input B T C H W (2D) / B V C T H W '
            f'(3D), all >= 1; got {shape}'
        )
    channel = 1 if len(shape) == 4 else 2
    expected = getattr(getattr(model, 'backbone', None), 'in_channels', 3)
    if shape[channel] != expected:
        raise ValueError(
            f'shape {shape}: dimension {channel} is the '
            f'{expected} image channels of the backbone, got '
            f'{shape[channel]}'
        )
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
        torch.onnx.export(
            wrapper,
            (dummy,),
            out,
            dynamo=False,
            opset_version=opset,
            input_names=['inputs'],
            output_names=['cls_score'],
        )
    graph = onnx.load(out)
    onnx.checker.check_model(graph)
    custom = sorted(
        {
            f'{n.domain}::{n.op_type}'
            for n in graph.graph.node
            if n.domain not in STANDARD_DOMAINS
        }
    )
    if custom:
        raise RuntimeError(f'{out} uses non-standard ONNX ops {custom}')
    return wrapper


def verify(wrapper: nn.Module, out: str, shape, seed: int = 0) -> dict:
    """Logits of onnxruntime vs PyTorch on one random normal input:
    ``dict(max_abs_diff, max_abs_logit)``."""
    import onnxruntime as ort

    inputs = torch.randn(
        tuple(shape), generator=torch.Generator().manual_seed(seed)
    )
    with torch.no_grad():
        expected = wrapper(inputs).numpy()
    session = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    (actual,) = session.run(None, {'inputs': inputs.numpy()})
    if actual.shape != expected.shape:
        raise RuntimeError(
            f'onnxruntime output shape {actual.shape} != '
            f'PyTorch {expected.shape}'
        )
    return dict(
        max_abs_diff=float(np.abs(actual - expected).max()),
        max_abs_logit=float(np.abs(expected).max()),
    )
