"""Convert a checkpoint of the authors' SELFY code (arunos728/SELFY) into an
MMEngine checkpoint for our SELFYNet.

    python tools/convert_official_selfy.py SRC DST CONFIG \
        [--cfg-options model.backbone.blocks.0.cfg.window="(9,9,9)" ...]

SRC: what the official ``main.py`` saves, ``{'epoch', 'arch', 'state_dict',
'best_prec1'}`` with a DataParallel ``state_dict`` (``module.base_model.*``,
``module.new_fc.*``); a bare state dict also works. It is read with
``torch.load(weights_only=True)``. CONFIG: the config the weights are for
(a SELFY R50 config, e.g. configs/selfy/...): its ``model`` gives the
backbone (``ResNetTSMWithBlocks`` with one ``SELFYBlock`` entry in
``blocks``: its window, channels and position), the segment count and the
head. DST: ``{'state_dict', 'meta'}``; ``meta['model']`` is that model config
(``pretrained`` off: the weights are in the checkpoint) and
``meta['official']`` the source's epoch/arch/best_prec1.

Key mapping (one official tensor -> one of ours)::

    base_model.conv1.weight                 backbone.conv1.conv.weight
    base_model.bn1.*                        backbone.conv1.bn.*
    base_model.layerK.i.conv1.weight        backbone.layerK.i.conv1.conv.net.weight
                                            (TSM's TemporalShift wraps conv1.conv)
    base_model.layerK.i.conv{2,3}.weight    backbone.layerK.i.conv{2,3}.conv.weight
    base_model.layerK.i.bnJ.*               backbone.layerK.i.convJ.bn.*
    base_model.layerK.i.downsample.{0,1}.*  backbone.layerK.i.downsample.{conv,bn}.*
    base_model.selfy.<block key>            <P>.<block key>
        (<P>: backbone.stage_blocks.<layer>.<i>, where the config puts its
        SELFYBlock; layer2.0 in every SELFY config, as the official code;
        block keys: see selfy_mmaction/models/blocks/selfy.py; Conv3d and
        ConvTranspose3d weights lose their depth-1 axis)
    new_fc.weight (K, 2048, 1)              cls_head.fc_cls.weight (K, 2048)
    new_fc.bias                             cls_head.fc_cls.bias

The window, the class count and the segment count come from the config.
The checkpoint's ``L`` (``conv3_fuse.1.weight`` has ``L * 64`` input
channels) and class count are checked against it; the segment count is not
stored in official checkpoints (the weights do not depend on it). Any
official key without a rule, any model key left unfilled and any shape that
differs stop the conversion with their names.
"""

import argparse
import os
import os.path as osp
import re
import sys
from typing import Callable, Dict, List, Optional, Tuple

import torch
from mmengine.config import Config, DictAction

BN = r'(weight|bias|running_mean|running_var|num_batches_tracked)'


def _drop_depth(weight):
    """Conv3d / ConvTranspose3d weight with depth 1 -> 2-D conv weight."""
    return weight.squeeze(2)


def _drop_length(weight):
    """Conv1d weight ``(K, C, 1)`` -> Linear weight ``(K, C)``."""
    return weight.squeeze(-1)


def rules(prefix: str) -> List[Tuple[str, str, Optional[Callable]]]:
    """(official key pattern, our key template, reshape or None), with the
    SELFY block's keys under ``prefix``."""
    official = r'base_model\.selfy\.'
    return [
        (r'base_model\.conv1\.weight', 'backbone.conv1.conv.weight', None),
        (rf'base_model\.bn1\.{BN}', r'backbone.conv1.bn.\1', None),
        (
            r'base_model\.layer(\d)\.(\d+)\.conv1\.weight',
            r'backbone.layer\1.\2.conv1.conv.net.weight',
            None,
        ),
        (
            r'base_model\.layer(\d)\.(\d+)\.conv([23])\.weight',
            r'backbone.layer\1.\2.conv\3.conv.weight',
            None,
        ),
        (
            rf'base_model\.layer(\d)\.(\d+)\.bn([123])\.{BN}',
            r'backbone.layer\1.\2.conv\3.bn.\4',
            None,
        ),
        (
            r'base_model\.layer(\d)\.(\d+)\.downsample\.0\.weight',
            r'backbone.layer\1.\2.downsample.conv.weight',
            None,
        ),
        (
            rf'base_model\.layer(\d)\.(\d+)\.downsample\.1\.{BN}',
            r'backbone.layer\1.\2.downsample.bn.\3',
            None,
        ),
        (
            official + r'stss_transformation\.downsample\.0\.weight',
            prefix + 'stss_transformation.downsample.conv.weight',
            None,
        ),
        (
            official + rf'stss_transformation\.downsample\.1\.{BN}',
            prefix + r'stss_transformation.downsample.bn.\1',
            None,
        ),
        (
            official + r'stss_(extraction|integration)\.conv(\d)\.0\.weight',
            prefix + r'stss_\1.conv\2.conv.weight',
            _drop_depth,
        ),
        (
            official + rf'stss_(extraction|integration)\.conv(\d)\.1\.{BN}',
            prefix + r'stss_\1.conv\2.bn.\3',
            None,
        ),
        (
            official + r'stss_integration\.conv3_fuse\.1\.weight',
            prefix + 'stss_integration.conv3_fuse.conv.weight',
            _drop_depth,
        ),
        (
            official + rf'stss_integration\.conv3_fuse\.2\.{BN}',
            prefix + r'stss_integration.conv3_fuse.bn.\1',
            None,
        ),
        (
            official + r'stss_integration\.upsample\.0\.weight',
            prefix + 'stss_integration.upsample.conv.weight',
            _drop_depth,
        ),
        (
            official + rf'stss_integration\.upsample\.1\.{BN}',
            prefix + r'stss_integration.upsample.bn.\1',
            None,
        ),
        (r'new_fc\.weight', 'cls_head.fc_cls.weight', _drop_length),
        (r'new_fc\.bias', 'cls_head.fc_cls.bias', None),
    ]


FUSE_KEY = 'base_model.selfy.stss_integration.conv3_fuse.1.weight'
FC_KEY = 'new_fc.weight'
PER_OFFSET_KEY = 'base_model.selfy.stss_integration.conv2.0.weight'


class ConversionError(ValueError):
    """The source does not look like an official SELFY checkpoint."""


def selfy_prefix(model: dict) -> str:
    """Where the model keeps its (one) SELFY block's weights:
    ``backbone.stage_blocks.<layer>.<index>.``."""
    blocks = model['backbone'].get('blocks', [])
    selfy = [
        (i, b)
        for i, b in enumerate(blocks)
        if b['cfg']['type'] == 'SELFYBlock'
    ]
    if (
        len(selfy) != 1
        or len(selfy[0][1]['layers']) != 1
        or selfy[0][1].get('position', 'after_stage') != 'after_stage'
    ):
        raise ConversionError(
            'the config must put exactly one SELFYBlock after one stage '
            "(model.backbone.blocks: [dict(cfg=dict(type='SELFYBlock', ...),"
            f" position='after_stage', layers=(...,))]), got {blocks}"
        )
    index, entry = selfy[0]
    layer = entry['layers'][0]
    # earlier entries after the same stage come first in its Sequential
    before = sum(
        1
        for b in blocks[:index]
        if b.get('position', 'after_stage') == 'after_stage'
        and layer in b['layers']
    )
    return f'backbone.stage_blocks.{layer}.{before}.'


def model_from_config(config: str, cfg_options: Optional[dict] = None) -> dict:
    """``model`` of the config (with ``--cfg-options`` merged), without
    pretrained weights: the converted checkpoint carries all of them."""
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    model = cfg.model.to_dict()
    if model['backbone'].get('type') != 'ResNetTSMWithBlocks':
        raise ConversionError(
            f'{config}: model.backbone.type must be ResNetTSMWithBlocks '
            '(TSM-R50 with a SELFY block), got '
            f'{model["backbone"].get("type")}'
        )
    model['backbone'].update(pretrained=None, pretrained2d=False)
    return model


def selfy_window(model: dict) -> Tuple[int, int, int]:
    """The (L, U, V) window the config gives its SELFY block (the block's
    default (5, 9, 9) when the config leaves it out)."""
    import inspect

    from selfy_mmaction.models.blocks.selfy import SELFYBlock

    entry = next(
        b
        for b in model['backbone']['blocks']
        if b['cfg']['type'] == 'SELFYBlock'
    )
    default = inspect.signature(SELFYBlock).parameters['window'].default
    return tuple(int(s) for s in entry['cfg'].get('window', default))


def load_official(path: str) -> Tuple[Dict[str, torch.Tensor], dict]:
    """The state dict (``module.`` stripped) and the other entries."""
    if not osp.isfile(path):
        raise ConversionError(f'no such checkpoint file: {path}')
    ckpt = torch.load(path, map_location='cpu', weights_only=True)
    if not isinstance(ckpt, dict):
        raise ConversionError(
            f'{path}: expected a dict checkpoint, got {type(ckpt).__name__}'
        )
    info = {}
    if 'state_dict' in ckpt:
        info = {k: v for k, v in ckpt.items() if k != 'state_dict'}
        ckpt = ckpt['state_dict']
    bad = [k for k, v in ckpt.items() if not torch.is_tensor(v)]
    if bad or not ckpt:
        raise ConversionError(
            f'{path}: expected {{"state_dict": {{name: tensor}}, ...}} or a '
            f'state dict; non-tensor entries: {bad[:10]}'
        )
    state = {
        k[len('module.') :] if k.startswith('module.') else k: v
        for k, v in ckpt.items()
    }
    return state, info


def infer_length(state: Dict[str, torch.Tensor]) -> int:
    """The window's ``L``: fused input channels / per-offset channels."""
    if FUSE_KEY not in state:
        raise ConversionError(
            f'missing key {FUSE_KEY!r}: not a SELFY '
            'checkpoint (no SELFY block after layer2?)'
        )
    fused = state[FUSE_KEY].shape[1]
    if PER_OFFSET_KEY not in state:
        raise ConversionError(f'missing key {PER_OFFSET_KEY!r}')
    per_offset = state[PER_OFFSET_KEY].shape[0]
    if fused % per_offset:
        raise ConversionError(
            f'{FUSE_KEY} has {fused} input channels, not '
            f'a multiple of {per_offset}'
        )
    return fused // per_offset


def convert_state(
    state: Dict[str, torch.Tensor], prefix: str
) -> Dict[str, torch.Tensor]:
    """Rename (and reshape) every official tensor, the SELFY block's under
    ``prefix``; unknown keys fail."""
    converted, unknown = {}, []
    table = rules(prefix)
    for key, value in state.items():
        for pattern, template, reshape in table:
            match = re.fullmatch(pattern, key)
            if match:
                converted[match.expand(template)] = (
                    value if reshape is None else reshape(value)
                )
                break
        else:
            unknown.append(key)
    if unknown:
        raise ConversionError(
            f'{len(unknown)} official key(s) have no rule: {unknown}'
        )
    return converted


def check_against_model(converted: Dict[str, torch.Tensor], cfg: dict):
    """Build the model and load the weights strictly; report key and shape
    mismatches by name."""
    from mmaction.registry import MODELS
    from mmengine.registry import init_default_scope

    import selfy_mmaction  # noqa: F401  (registers our modules)

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
            f'missing {missing}, unexpected {unexpected}, shapes {shapes}'
        )
    model.load_state_dict(converted, strict=True)


def convert(
    src: str, dst: str, config: str, cfg_options: Optional[dict] = None
) -> dict:
    """Convert ``src`` into ``dst`` for the model of ``config``; returns the
    written ``meta``."""
    state, info = load_official(src)
    if FC_KEY not in state:
        raise ConversionError(
            f'missing key {FC_KEY!r} (the official classifier)'
        )
    cfg = model_from_config(config, cfg_options)
    prefix = selfy_prefix(cfg)
    window = selfy_window(cfg)
    length = infer_length(state)
    if length != window[0]:
        raise ConversionError(
            f"the checkpoint's SELFY window has L={length} ({FUSE_KEY}), the "
            f"config's {window} (set model.backbone.blocks.<i>.cfg.window)"
        )
    num_classes = state[FC_KEY].shape[0]
    if cfg['cls_head'].get('num_classes') != num_classes:
        raise ConversionError(
            f'the checkpoint has {num_classes} classes ({FC_KEY}), the '
            f"config's model.cls_head.num_classes is "
            f'{cfg["cls_head"].get("num_classes")}'
        )
    num_segments = cfg['backbone']['num_segments']
    converted = convert_state(state, prefix)
    check_against_model(converted, cfg)
    meta = dict(
        converted_from=osp.basename(src),
        converter='tools/convert_official_selfy.py',
        official={
            k: v.item() if torch.is_tensor(v) else v
            for k, v in info.items()
            if isinstance(v, (int, float, str))
            or torch.is_tensor(v)
            and v.numel() == 1
        },
        num_classes=num_classes,
        window=list(window),
        num_segments=num_segments,
        config=osp.basename(config),
        model=cfg,
    )
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    tmp = dst + '.tmp'
    torch.save(dict(state_dict=converted, meta=meta), tmp)
    os.replace(tmp, dst)
    return meta


def main(argv: Optional[List[str]] = None):
    parser = argparse.ArgumentParser(
        description='Convert an official SELFY checkpoint (arunos728/SELFY '
        'main.py) into an MMEngine checkpoint for selfy_mmaction.'
    )
    parser.add_argument('src', help='official .pth.tar')
    parser.add_argument('dst', help='output .pth')
    parser.add_argument(
        'config',
        help='the SELFY config the weights are for (its model: '
        'window, position, segments, classes)',
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value, e.g. '
        'model.backbone.blocks.0.cfg.window="(9,9,9)"',
    )
    args = parser.parse_args(argv)
    try:
        meta = convert(args.src, args.dst, args.config, args.cfg_options)
    except ConversionError as err:
        print(f'conversion failed: {err}', file=sys.stderr)
        return 1
    print(
        f'wrote {args.dst}: {meta["num_classes"]} classes, window '
        f'{tuple(meta["window"])}, {meta["num_segments"]} segments; model '
        'config in meta["model"]'
    )
    return 0


if __name__ == '__main__':
    sys.exit(main())
