"""Convert a checkpoint of the authors' SELFY code (arunos728/SELFY) into an
MMEngine checkpoint for our SELFYNet.

    python tools/convert_official_selfy.py SRC DST [--num-segments 8]

SRC: what the official ``main.py`` saves, ``{'epoch', 'arch', 'state_dict',
'best_prec1'}`` with a DataParallel ``state_dict`` (``module.base_model.*``,
``module.new_fc.*``); a bare state dict also works. It is read with
``torch.load(weights_only=True)``. DST: ``{'state_dict', 'meta'}`` for a
``Recognizer2D`` with ``ResNetTSMWithBlocks`` (depth 50, shift_div 8, a
``SELFYBlock`` after ``layer2``) and ``TSMHead``; ``meta['model']`` is that
model config and ``meta['official']`` the source's epoch/arch/best_prec1.

Key mapping (one official tensor -> one of ours)::

    base_model.conv1.weight                 backbone.conv1.conv.weight
    base_model.bn1.*                        backbone.conv1.bn.*
    base_model.layerK.i.conv1.weight        backbone.layerK.i.conv1.conv.net.weight
                                            (TSM's TemporalShift wraps conv1.conv)
    base_model.layerK.i.conv{2,3}.weight    backbone.layerK.i.conv{2,3}.conv.weight
    base_model.layerK.i.bnJ.*               backbone.layerK.i.convJ.bn.*
    base_model.layerK.i.downsample.{0,1}.*  backbone.layerK.i.downsample.{conv,bn}.*
    base_model.selfy.<block key>            backbone.stage_blocks.layer2.0.<block key>
        (block keys: see selfy_mmaction/models/blocks/selfy.py; Conv3d and
        ConvTranspose3d weights lose their depth-1 axis)
    new_fc.weight (K, 2048, 1)              cls_head.fc_cls.weight (K, 2048)
    new_fc.bias                             cls_head.fc_cls.bias

The window's ``L`` comes from ``conv3_fuse.1.weight`` (``L * 64`` input
channels); ``U = V = 9`` as in the official code. The number of segments is
not stored in official checkpoints (``--num-segments``, default 8); the
weights do not depend on it. Any official key without a rule, and any model
key left unfilled, stops the conversion with their names.
"""
import argparse
import os
import os.path as osp
import re
import sys
from typing import Callable, Dict, List, Optional, Tuple

import torch

BN = r'(weight|bias|running_mean|running_var|num_batches_tracked)'
SELFY_PREFIX = 'backbone.stage_blocks.layer2.0.'


def _drop_depth(weight):
    """Conv3d / ConvTranspose3d weight with depth 1 -> 2-D conv weight."""
    return weight.squeeze(2)


def _drop_length(weight):
    """Conv1d weight ``(K, C, 1)`` -> Linear weight ``(K, C)``."""
    return weight.squeeze(-1)


# (official key pattern, our key template, reshape or None)
RULES: List[Tuple[str, str, Optional[Callable]]] = [
    (r'base_model\.conv1\.weight', 'backbone.conv1.conv.weight', None),
    (rf'base_model\.bn1\.{BN}', r'backbone.conv1.bn.\1', None),
    (r'base_model\.layer(\d)\.(\d+)\.conv1\.weight',
     r'backbone.layer\1.\2.conv1.conv.net.weight', None),
    (r'base_model\.layer(\d)\.(\d+)\.conv([23])\.weight',
     r'backbone.layer\1.\2.conv\3.conv.weight', None),
    (rf'base_model\.layer(\d)\.(\d+)\.bn([123])\.{BN}',
     r'backbone.layer\1.\2.conv\3.bn.\4', None),
    (r'base_model\.layer(\d)\.(\d+)\.downsample\.0\.weight',
     r'backbone.layer\1.\2.downsample.conv.weight', None),
    (rf'base_model\.layer(\d)\.(\d+)\.downsample\.1\.{BN}',
     r'backbone.layer\1.\2.downsample.bn.\3', None),
    (r'base_model\.selfy\.stss_transformation\.downsample\.0\.weight',
     SELFY_PREFIX + 'stss_transformation.downsample.conv.weight', None),
    (rf'base_model\.selfy\.stss_transformation\.downsample\.1\.{BN}',
     SELFY_PREFIX + r'stss_transformation.downsample.bn.\1', None),
    (r'base_model\.selfy\.stss_(extraction|integration)\.conv(\d)\.0\.weight',
     SELFY_PREFIX + r'stss_\1.conv\2.conv.weight', _drop_depth),
    (rf'base_model\.selfy\.stss_(extraction|integration)\.conv(\d)\.1\.{BN}',
     SELFY_PREFIX + r'stss_\1.conv\2.bn.\3', None),
    (r'base_model\.selfy\.stss_integration\.conv3_fuse\.1\.weight',
     SELFY_PREFIX + 'stss_integration.conv3_fuse.conv.weight', _drop_depth),
    (rf'base_model\.selfy\.stss_integration\.conv3_fuse\.2\.{BN}',
     SELFY_PREFIX + r'stss_integration.conv3_fuse.bn.\1', None),
    (r'base_model\.selfy\.stss_integration\.upsample\.0\.weight',
     SELFY_PREFIX + 'stss_integration.upsample.conv.weight', _drop_depth),
    (rf'base_model\.selfy\.stss_integration\.upsample\.1\.{BN}',
     SELFY_PREFIX + r'stss_integration.upsample.bn.\1', None),
    (r'new_fc\.weight', 'cls_head.fc_cls.weight', _drop_length),
    (r'new_fc\.bias', 'cls_head.fc_cls.bias', None),
]

FUSE_KEY = 'base_model.selfy.stss_integration.conv3_fuse.1.weight'
FC_KEY = 'new_fc.weight'
PER_OFFSET_KEY = 'base_model.selfy.stss_integration.conv2.0.weight'


class ConversionError(ValueError):
    """The source does not look like an official SELFY checkpoint."""


def model_config(num_classes: int, num_segments: int = 8,
                 window: Tuple[int, int, int] = (5, 9, 9)) -> dict:
    """The Recognizer2D config the converted weights are for (official
    normalisation and head: dropout 0.5, averaged segment logits)."""
    return dict(
        type='Recognizer2D',
        backbone=dict(
            type='ResNetTSMWithBlocks', depth=50, num_segments=num_segments,
            shift_div=8, pretrained=None, pretrained2d=False,
            blocks=[dict(cfg=dict(type='SELFYBlock', window=list(window)),
                         position='after_stage', layers=['layer2'])]),
        cls_head=dict(type='TSMHead', num_classes=num_classes,
                      in_channels=2048, num_segments=num_segments,
                      spatial_type='avg', consensus=dict(type='AvgConsensus',
                                                         dim=1),
                      dropout_ratio=0.5, init_std=0.001, is_shift=True,
                      average_clips='prob'),
        data_preprocessor=dict(type='ActionDataPreprocessor',
                               mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375],
                               format_shape='NCHW'))


def load_official(path: str) -> Tuple[Dict[str, torch.Tensor], dict]:
    """The state dict (``module.`` stripped) and the other entries."""
    if not osp.isfile(path):
        raise ConversionError(f'no such checkpoint file: {path}')
    ckpt = torch.load(path, map_location='cpu', weights_only=True)
    if not isinstance(ckpt, dict):
        raise ConversionError(f'{path}: expected a dict checkpoint, got '
                              f'{type(ckpt).__name__}')
    info = {}
    if 'state_dict' in ckpt:
        info = {k: v for k, v in ckpt.items() if k != 'state_dict'}
        ckpt = ckpt['state_dict']
    bad = [k for k, v in ckpt.items() if not torch.is_tensor(v)]
    if bad or not ckpt:
        raise ConversionError(
            f'{path}: expected {{"state_dict": {{name: tensor}}, ...}} or a '
            f'state dict; non-tensor entries: {bad[:10]}')
    state = {k[len('module.'):] if k.startswith('module.') else k: v
             for k, v in ckpt.items()}
    return state, info


def infer_window(state: Dict[str, torch.Tensor]) -> Tuple[int, int, int]:
    """``(L, 9, 9)`` with ``L`` = fused input channels / per-offset
    channels."""
    if FUSE_KEY not in state:
        raise ConversionError(f'missing key {FUSE_KEY!r}: not a SELFY '
                              'checkpoint (no SELFY block after layer2?)')
    fused = state[FUSE_KEY].shape[1]
    if PER_OFFSET_KEY not in state:
        raise ConversionError(f'missing key {PER_OFFSET_KEY!r}')
    per_offset = state[PER_OFFSET_KEY].shape[0]
    if fused % per_offset:
        raise ConversionError(f'{FUSE_KEY} has {fused} input channels, not '
                              f'a multiple of {per_offset}')
    return fused // per_offset, 9, 9


def convert_state(state: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Rename (and reshape) every official tensor; unknown keys fail."""
    converted, unknown = {}, []
    for key, value in state.items():
        for pattern, template, reshape in RULES:
            match = re.fullmatch(pattern, key)
            if match:
                converted[match.expand(template)] = (
                    value if reshape is None else reshape(value))
                break
        else:
            unknown.append(key)
    if unknown:
        raise ConversionError(
            f'{len(unknown)} official key(s) have no rule: {unknown}')
    return converted


def check_against_model(converted: Dict[str, torch.Tensor], cfg: dict):
    """Build the model and load the weights strictly; report key and shape
    mismatches by name."""
    import selfy_mmaction  # noqa: F401  (registers our modules)
    from mmaction.registry import MODELS
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')
    model = MODELS.build(cfg)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(converted))
    unexpected = sorted(set(converted) - set(expected))
    shapes = [
        f'{k}: converted {tuple(v.shape)}, model {tuple(expected[k].shape)}'
        for k, v in converted.items()
        if k in expected and v.shape != expected[k].shape
    ]
    if missing or unexpected or shapes:
        raise ConversionError(
            'converted weights do not fit the model: '
            f'missing {missing}, unexpected {unexpected}, shapes {shapes}')
    model.load_state_dict(converted, strict=True)


def convert(src: str, dst: str, num_segments: int = 8) -> dict:
    """Convert ``src`` into ``dst``; returns the written ``meta``."""
    state, info = load_official(src)
    if FC_KEY not in state:
        raise ConversionError(f'missing key {FC_KEY!r} (the official '
                              'classifier)')
    window = infer_window(state)
    num_classes = state[FC_KEY].shape[0]
    converted = convert_state(state)
    cfg = model_config(num_classes, num_segments, window)
    check_against_model(converted, cfg)
    meta = dict(
        converted_from=osp.basename(src),
        converter='tools/convert_official_selfy.py',
        official={k: v.item() if torch.is_tensor(v) else v
                  for k, v in info.items()
                  if isinstance(v, (int, float, str)) or
                  torch.is_tensor(v) and v.numel() == 1},
        num_classes=num_classes, window=list(window),
        num_segments=num_segments, model=cfg)
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    tmp = dst + '.tmp'
    torch.save(dict(state_dict=converted, meta=meta), tmp)
    os.replace(tmp, dst)
    return meta


def main(argv: Optional[List[str]] = None):
    parser = argparse.ArgumentParser(
        description='Convert an official SELFY checkpoint (arunos728/SELFY '
        'main.py) into an MMEngine checkpoint for selfy_mmaction.')
    parser.add_argument('src', help='official .pth.tar')
    parser.add_argument('dst', help='output .pth')
    parser.add_argument('--num-segments', type=int, default=8,
                        help='frames the model was trained with (not stored '
                        'in official checkpoints); default 8')
    args = parser.parse_args(argv)
    try:
        meta = convert(args.src, args.dst, args.num_segments)
    except ConversionError as err:
        print(f'conversion failed: {err}', file=sys.stderr)
        return 1
    print(f'wrote {args.dst}: {meta["num_classes"]} classes, window '
          f'{tuple(meta["window"])}, {args.num_segments} segments; model '
          'config in meta["model"]')
    return 0


if __name__ == '__main__':
    sys.exit(main())
