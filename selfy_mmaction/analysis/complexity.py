"""Complexity of one clip: FLOPs (multiply-accumulates) and parameters of
backbone and head, with the local-correlation cost that mmengine cannot see.

How it counts:

* ``mmengine.analysis.FlopAnalyzer`` (the engine of
  ``get_model_complexity_info``; fvcore rules: one multiply-add = 1 FLOP,
  inference BatchNorm 2 per element, adaptive average pooling 1 per input
  element, max-pooling, additions and activations 0) traces
  ``extract_feat(stage='head')`` of the recognizer on one clip, input
  ``(1, T, 3, H, W)`` (``T`` = frames per clip from the config's val
  pipeline, e.g. 5 x 8 for TDN): backbone and head. Pretrained
  weights are switched off: nothing is downloaded.
* Local correlations (``selfy_mmaction.ops.stss``: SELFY's STSS, MSNet's
  matching) are replaced by zeros of the right shape during the trace only,
  and counted analytically instead: ``N*T*L*U*V*H*W*C`` multiply-adds (one
  per channel per output similarity). mmengine would otherwise count the
  implementation's padded row products (several times more) or nothing.
* Everything else is counted as it runs under the tracer: a layer that a
  block computes some other way (e.g. a conv as a matrix product with its
  dense operator) is counted as that computation.
* Parameters: ``mmengine.analysis.parameter_count`` of backbone + head.

Used by ``tools/analysis/get_flops.py``, the motion benchmark
(:mod:`selfy_mmaction.benchmark.zoo`) and zoo publishing
(:mod:`selfy_mmaction.zoo.publish`). The papers' numbers printed beside the
measurements are data: :mod:`selfy_mmaction.analysis.paper_numbers`.
"""

import contextlib
import copy
import glob
import importlib
import inspect
import os.path as osp
import re
import sys
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.analysis import FlopAnalyzer, parameter_count
from mmengine.config import Config
from mmengine.registry import init_default_scope

from .paper_numbers import ALGO_ALIASES, PAPER


def without_pretrained(node):
    """Copy of a (model) config with every weight loading switched off:
    ``pretrained`` -> None, ``pretrained2d`` -> False (also added where the
    class takes it, since ResNetTSM defaults to True and then needs a path),
    ``init_cfg`` entries of type ``Pretrained`` dropped."""
    if isinstance(node, (list, tuple)):
        items = [without_pretrained(v) for v in node]
        items = [v for v in items if not _is_pretrained_init(v)]
        return type(node)(items)
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == 'pretrained':
            out[key] = None
        elif key == 'pretrained2d':
            out[key] = False
        elif key == 'init_cfg' and _is_pretrained_init(value):
            continue
        else:
            out[key] = without_pretrained(value)
    if 'pretrained2d' not in out and _accepts(out.get('type'), 'pretrained2d'):
        out['pretrained2d'] = False
    return out


def _is_pretrained_init(value):
    return isinstance(value, dict) and value.get('type') == 'Pretrained'


def _accepts(type_name, arg):
    """Whether the MODELS class ``type_name`` (or a base class it forwards
    ``**kwargs`` to) takes ``arg``."""
    if not isinstance(type_name, str):
        return False
    from mmaction.registry import MODELS

    cls = MODELS.get(type_name)
    if cls is None:
        return False
    for klass in inspect.getmro(cls):
        if '__init__' in vars(klass):
            params = inspect.signature(klass.__init__).parameters
            if arg in params:
                return True
            if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
                return False
    return False


def _val_pipeline(cfg, split: str = 'val') -> List[dict]:
    """The pipeline of ``split``'s dataloader (``'val'`` or ``'test'``),
    falling back to the other one, then to training's."""
    order = {'val': ('val', 'test'), 'test': ('test', 'val')}[split]
    for name in [f'{s}_dataloader' for s in order] + ['train_dataloader']:
        loader = cfg.get(name)
        if loader and loader.get('dataset', {}).get('pipeline'):
            return loader['dataset']['pipeline']
    raise ValueError(
        'config has no dataloader pipeline to read the clip '
        'size from; pass --shape T 3 H W'
    )


def _view_size(pipeline: List[dict]) -> Optional[Tuple[int, int]]:
    """``(H, W)`` of one view: the last crop's size (``CenterCrop``,
    ``ThreeCrop``, ``TenCrop``), else the last ``Resize`` to a fixed size
    (``keep_ratio=False``, mmcv's ``scale=(W, H)``), else None."""
    for t in reversed(pipeline):
        if t['type'] in ('CenterCrop', 'ThreeCrop', 'TenCrop'):
            size = t['crop_size']
            if isinstance(size, (tuple, list)):  # (W, H)
                return int(size[1]), int(size[0])
            return int(size), int(size)
    for t in reversed(pipeline):
        scale = t.get('scale')
        if (
            t['type'] == 'Resize'
            and not t.get('keep_ratio', True)
            and isinstance(scale, (tuple, list))
            and min(scale) > 0
        ):
            return int(scale[1]), int(scale[0])
    return None


def clip_input_shape(
    cfg, size: Optional[int] = None, split: str = 'val'
) -> Tuple[int, ...]:
    """Recognizer input of one sample of ``split`` (``'val'`` or
    ``'test'``), one view (``twice_sample`` ignored): ``(1, T, 3, H, W)`` for
    2D recognizers (``T = clip_len * num_clips`` of the pipeline's frame
    sampler), ``(1, num_clips, 3, clip_len, H, W)`` for 3D ones. ``H x W``:
    ``size x size``, else one crop of the pipeline (``CenterCrop``,
    ``ThreeCrop``...), else its fixed-size ``Resize``, else 224 x 224."""
    pipeline = _val_pipeline(cfg, split)
    # SampleFrames and its kin (DenseSampleFrames, UniformSample, ...)
    samplers = [t for t in pipeline if 'Sample' in t['type']]
    if not samplers:
        raise ValueError(
            'no frame sampler (SampleFrames...) in the val '
            'pipeline; pass --shape T 3 H W'
        )
    sampler = samplers[0]
    frames = sampler.get('clip_len', 1) * sampler.get('num_clips', 1)
    if size is not None:
        height = width = size
    else:
        height, width = _view_size(pipeline) or (224, 224)
    formats = [
        t['input_format'] for t in pipeline if t['type'] == 'FormatShape'
    ]
    if formats and formats[0] == 'NCTHW':
        return (
            1,
            sampler.get('num_clips', 1),
            3,
            sampler.get('clip_len', 1),
            height,
            width,
        )
    return (1, frames, 3, height, width)


class _BackboneAndHead(nn.Module):
    """``forward(inputs)`` = the recognizer's logits for one batch of views
    (``extract_feat(stage='head')``), no data preprocessor."""

    def __init__(self, recognizer: nn.Module):
        super().__init__()
        self.recognizer = recognizer

    def forward(self, inputs):
        return self.recognizer.extract_feat(inputs, stage='head')[0]


def build_model(cfg) -> nn.Module:
    """The recognizer of ``cfg`` without pretrained weights, in eval mode
    (weights as constructed: counting needs no initialisation)."""
    from mmaction.registry import MODELS

    init_default_scope(cfg.get('default_scope', 'mmaction'))
    model = MODELS.build(without_pretrained(copy.deepcopy(cfg.model)))
    return model.eval()


@contextlib.contextmanager
def correlations_counted_analytically(records: List[int]):
    """Replace every local correlation (``selfy_mmaction.ops.stss``) by zeros
    of its output shape and append its multiply-adds ``N*T*L*U*V*H*W*C`` to
    ``records``."""
    # the module, not the function `stss` that selfy_mmaction.ops exports
    stss_module = importlib.import_module('selfy_mmaction.ops.stss')
    original = stss_module._forward

    def zeros_forward(query, key, g, *args, **kwargs):
        records.append(
            g.n * g.t * len(g.offsets) * g.u * g.v * g.h * g.w * g.c
        )
        out = query.new_zeros(g.n, g.t, g.h, g.w, len(g.offsets), g.u, g.v)
        return out.permute(0, 1, 4, 5, 6, 2, 3)

    stss_module._forward = zeros_forward
    try:
        yield records
    finally:
        stss_module._forward = original


def complexity(
    cfg,
    input_shape: Optional[Sequence[int]] = None,
    size: Optional[int] = None,
) -> Dict:
    """Count one clip of ``cfg``'s recognizer.

    Returns dict: ``input_shape``, ``flops`` (mmengine, correlation
    excluded), ``correlation`` (analytic MACs), ``total``, ``params``,
    ``analyzer`` (the FlopAnalyzer, for per-module tables).
    """
    model = build_model(cfg)
    if input_shape is None:
        input_shape = clip_input_shape(cfg, size)
    inputs = torch.randn(*input_shape)
    wrapper = _BackboneAndHead(model)
    records: List[int] = []
    with torch.no_grad(), correlations_counted_analytically(records):
        analyzer = FlopAnalyzer(wrapper, (inputs,))
        analyzer.unsupported_ops_warnings(False)
        analyzer.uncalled_modules_warnings(False)
        analyzer.tracer_warnings('none')
        flops = analyzer.total()
    correlation = sum(records)
    return dict(
        input_shape=tuple(input_shape),
        flops=flops,
        correlation=correlation,
        total=flops + correlation,
        params=parameter_count(wrapper)[''],
        analyzer=analyzer,
    )


def clip_complexity(
    cfg, size: Optional[int] = None, split: str = 'val'
) -> Dict:
    """:func:`complexity` of one view of ``split``'s pipeline (see
    :func:`clip_input_shape`) in the units tables use: ``gflops`` (total,
    correlation included), ``correlation_gflops``, ``params_m`` and
    ``input_shape`` (a list)."""
    res = complexity(cfg, clip_input_shape(cfg, size, split))
    return dict(
        gflops=res['total'] / 1e9,
        correlation_gflops=res['correlation'] / 1e9,
        params_m=res['params'] / 1e6,
        input_shape=list(res['input_shape']),
    )


def _window(cfg) -> Optional[Tuple[int, ...]]:
    """The SELFY window of a config (None without a SELFY block)."""
    for entry in cfg.model.get('backbone', {}).get('blocks', None) or []:
        block = entry.get('cfg', {})
        if block.get('type') == 'SELFYBlock':
            return tuple(block.get('window', (5, 9, 9)))
    return None


def paper_entry(config_path: str, cfg) -> Optional[dict]:
    """The PAPER row matching a config: algorithm = the config name's first
    ``_``-separated token, a ResNet-50 (``r50``/``res2net50`` in the name;
    the papers report no other depth), frames from the val pipeline, SELFY
    window."""
    stem = osp.splitext(osp.basename(config_path))[0].lower()
    if not re.search(r'(^|[-_])(r50|res2net50)([-_]|$)', stem):
        return None
    algo = stem.split('_')[0].split('-')[0]
    algo = ALGO_ALIASES.get(algo, algo)
    sampler = [t for t in _val_pipeline(cfg) if 'Sample' in t['type']]
    frames = sampler[0].get('num_clips', 1) if sampler else None
    return PAPER.get((algo, frames, _window(cfg)))


def list_configs(root: str) -> List[str]:
    """Every config under ``root`` (``_base_`` folders skipped), sorted."""
    paths = sorted(glob.glob(osp.join(root, '**', '*.py'), recursive=True))
    return [p for p in paths if '_base_' not in p.split(osp.sep)]


def _fmt(value, digits=2):
    return '-' if value is None else f'{value:.{digits}f}'


def measure_all(root: str, out=None) -> List[dict]:
    """Markdown table of every config under ``root`` beside PAPER, written to
    ``out`` (stdout by default)."""
    out = out or sys.stdout
    rows, seen = [], {}
    out.write(
        '| config | input | GFLOPs (mmengine, backbone + head) | '
        '+ correlation | GFLOPs total | params (M, backbone + head) | '
        'paper GFLOPs | paper params (M) | source |\n'
        '|---|---|---|---|---|---|---|---|---|\n'
    )
    for path in list_configs(root):
        name = osp.relpath(path, root)
        cfg = Config.fromfile(path)
        paper = paper_entry(path, cfg) or {}
        size = paper.get('res')
        try:
            key = (
                repr(without_pretrained(cfg.model.to_dict())),
                clip_input_shape(cfg, size),
            )
        except ValueError as err:  # no frame sampler to size the clip
            out.write(f'| {name} | not measured: {err} |||||||\n')
            continue
        if key in seen:
            out.write(
                f'| {name} | same model and clip as {seen[key]} |||||||\n'
            )
            continue
        seen[key] = name
        res = complexity(cfg, size=size)
        res.pop('analyzer')
        res.update(config=name, paper=paper)
        rows.append(res)
        shape = 'x'.join(str(s) for s in res['input_shape'][1:])
        out.write(
            f'| {name} | {shape} | {_fmt(res["flops"] / 1e9)} | '
            f'{_fmt(res["correlation"] / 1e9, 3)} | '
            f'{_fmt(res["total"] / 1e9)} | '
            f'{_fmt(res["params"] / 1e6)} | '
            f'{_fmt(paper.get("gflops"), 1)} | '
            f'{_fmt(paper.get("params"))} | '
            f'{paper.get("source", "-")} |\n'
        )
        out.flush()
    return rows


def input_shape_from(cfg, shape: Optional[Sequence[int]]):
    """Recognizer input from a command line's ``--shape``: ``T 3 H W`` (the
    batch of 1 added), ``H W`` or ``S`` (frames from the config's pipeline);
    None stays None (the config's own clip)."""
    if shape is None:
        return None
    if len(shape) == 4:
        return (1,) + tuple(shape)
    if len(shape) in (1, 2):
        h, w = (shape[0], shape[0]) if len(shape) == 1 else shape
        base = clip_input_shape(cfg)
        return base[:-2] + (h, w)
    raise ValueError(f'--shape takes T 3 H W, H W or S; got {shape}')
