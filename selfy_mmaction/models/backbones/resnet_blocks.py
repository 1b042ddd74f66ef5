"""One insertion mechanism for every motion block: MMAction2's ResNetTSM
(or a plain ResNet, ``is_shift=False``) plus a config list of blocks and where
they go.

Each entry of ``blocks`` is ``dict(cfg=<block config>, position=..., layers=...,
indices=None)``:

* ``position='after_stage'``: the block runs on the output of each named
  stage (``layers=('layer2',)`` puts SELFY after res3). It must keep the shape.
* ``position='after_conv1' | 'after_conv2' | 'after_conv3'``: inside every
  bottleneck of the named stages, on the output of that conv (after its BN
  and ReLU; ``conv3`` is before the residual add). Several entries at the
  same conv run in entry order (TDN: L-TDM, then the learnable shift).
* ``position='wrap_conv1' | 'wrap_conv2' | 'wrap_conv3'``: the block replaces
  the conv and receives the original ``ConvModule`` as ``net`` (CoST, TAda,
  STM's CSTM+CMM). Keys stay ``...convK.net.conv.weight``, which MMAction2's
  ImageNet loader maps (``_get_wrap_prefix``).

``indices`` optionally selects block indices per stage (a tuple of 0/1 per
stage, CoST's ``inflate`` form). Arguments the block's constructor accepts and
the config leaves out are filled in: ``in_channels`` (the tensor's channels),
``num_segments``, and ``net`` for wrap positions.

``stem_pool=False`` (TAda2D's backbone) drops the stem's max-pool and strides
the first res2 bottleneck instead (its 3x3 conv and its shortcut): the same
output sizes, res2's first 1x1 conv at twice the resolution.
"""

import inspect
from typing import List, Optional

import torch.nn as nn
from mmaction.models.backbones.resnet_tsm import ResNetTSM
from mmaction.registry import MODELS

from ...ops.layout import check_segments

POSITIONS = (
    'after_stage',
    'after_conv1',
    'after_conv2',
    'after_conv3',
    'wrap_conv1',
    'wrap_conv2',
    'wrap_conv3',
)


class _AfterConv(nn.Module):
    """Runs ``block`` on the output of ``net`` (a bottleneck's ConvModule)."""

    def __init__(self, net: nn.Module, block: nn.Module):
        super().__init__()
        self.net = net
        self.insert = block

    def forward(self, x):
        return self.insert(self.net(x))


def _conv_out_channels(conv_module):
    while isinstance(conv_module, _AfterConv):  # an earlier entry, same conv
        conv_module = conv_module.net
    conv = conv_module.conv
    while not isinstance(conv, nn.Conv2d):  # TemporalShift wraps conv1.conv
        conv = conv.net
    return conv.out_channels


def _build_block(cfg: dict, **available):
    """Build ``cfg`` from MODELS, filling in the arguments it accepts."""
    cfg = dict(cfg)
    block_type = cfg.get('type')
    if block_type is None or MODELS.get(block_type) is None:
        known = sorted(k for k in MODELS.module_dict)
        raise KeyError(
            f'unknown block type {block_type!r} in backbone '
            f'`blocks`; registered in mmaction::model: {known}'
        )
    cls = MODELS.get(block_type)
    params = inspect.signature(cls.__init__).parameters
    for key, value in available.items():
        if key in params and key not in cfg:
            cfg[key] = value
    return MODELS.build(cfg)


@MODELS.register_module()
class ResNetTSMWithBlocks(ResNetTSM):
    """ResNetTSM with motion blocks inserted by config.

    Args:
        depth (int): ResNet depth (18, 34, 50, 101, 152).
        blocks (list[dict]): Insertions, see the module docstring.
        stem_pool (bool): Keep the stem's 3x3 max-pool. ``False`` moves its
            stride into the first res2 bottleneck (needs depth >= 50).
            Defaults to True.
        **kwargs: Everything ``ResNetTSM`` takes (``num_segments``,
            ``is_shift``, ``shift_div``, ``pretrained``, ``pretrained2d``...).

    Input ``(N*T, 3, H, W)``, output as ResNetTSM.
    """

    def __init__(
        self,
        depth: int,
        blocks: Optional[List[dict]] = None,
        stem_pool: bool = True,
        **kwargs,
    ):
        self.stem_pool = stem_pool
        self.block_cfgs = [dict(b) for b in (blocks or [])]
        for entry in self.block_cfgs:
            if 'cfg' not in entry:
                raise KeyError(
                    f'each backbone `blocks` entry needs a `cfg` '
                    f'key, got {entry}'
                )
            if entry.get('position') not in POSITIONS:
                raise ValueError(
                    f'block position must be one of {POSITIONS}, '
                    f'got {entry.get("position")!r}'
                )
        super().__init__(depth, **kwargs)

    def init_structure(self):
        super().init_structure()
        if not self.stem_pool:
            self._stride_first_block()
        self.stage_blocks = nn.ModuleDict()
        self.inserted = []  # every inserted module, for init_weights
        for entry in self.block_cfgs:
            layers = entry.get('layers', ('layer2',))
            for layer_name in layers:
                if layer_name not in self.res_layers:
                    raise ValueError(
                        f'unknown stage {layer_name!r}; this '
                        f'ResNet has {self.res_layers}'
                    )
                if entry['position'] == 'after_stage':
                    self._insert_after_stage(entry, layer_name)
                else:
                    self._insert_in_blocks(entry, layer_name)

    def _stride_first_block(self):
        first = self.layer1[0]
        if not hasattr(first, 'conv3') or first.downsample is None:
            raise ValueError(
                f'stem_pool=False strides the first bottleneck '
                f'of layer1 and its shortcut; ResNet-{self.depth} '
                f'has {type(first).__name__} blocks (use depth '
                f'>= 50)'
            )
        self.maxpool = nn.Identity()
        first.conv2.conv.stride = (2, 2)
        first.downsample.conv.stride = (2, 2)

    def _stage_segments(self, layer_name):
        # ResNetTSM's temporal_pool halves T from layer2 on
        if self.temporal_pool and layer_name != 'layer1':
            return self.num_segments // 2
        return self.num_segments

    def _insert_after_stage(self, entry, layer_name):
        stage = getattr(self, layer_name)
        last = list(stage.children())[-1]
        channels = _conv_out_channels(
            last.conv3 if hasattr(last, 'conv3') else last.conv2
        )
        block = _build_block(
            entry['cfg'],
            in_channels=channels,
            num_segments=self._stage_segments(layer_name),
        )
        if layer_name not in self.stage_blocks:
            self.stage_blocks[layer_name] = nn.Sequential()
        self.stage_blocks[layer_name].append(block)
        self.inserted.append(block)

    def _insert_in_blocks(self, entry, layer_name):
        mode, conv_name = entry['position'].split('_')
        stage_idx = self.res_layers.index(layer_name)
        indices = entry.get('indices')
        for i, res_block in enumerate(getattr(self, layer_name)):
            if indices is not None and not indices[stage_idx][i]:
                continue
            conv = getattr(res_block, conv_name, None)
            if conv is None:
                raise ValueError(
                    f'{type(res_block).__name__} in {layer_name} has no '
                    f'{conv_name}; position {entry["position"]!r} needs it'
                )
            segs = self._stage_segments(layer_name)
            if mode == 'after':
                block = _build_block(
                    entry['cfg'],
                    in_channels=_conv_out_channels(conv),
                    num_segments=segs,
                )
                setattr(res_block, conv_name, _AfterConv(conv, block))
            else:
                block = _build_block(
                    entry['cfg'],
                    net=conv,
                    in_channels=conv.conv.in_channels
                    if isinstance(conv.conv, nn.Conv2d)
                    else None,
                    num_segments=segs,
                )
                setattr(res_block, conv_name, block)
            self.inserted.append(block)

    def _init_inserted(self):
        for block in self.inserted:
            if hasattr(block, 'init_weights'):
                block.init_weights()

    def load_original_weights(self, logger):
        """Load ImageNet weights with ResNetTSM's key conversion, then check
        the load's own result (PyTorch's missing/unexpected keys, taken with
        a ``load_state_dict`` post-hook): every ResNet tensor must be filled
        (only inserted blocks may be missing), and nothing but the
        classifier and BN counters may be left over."""
        loads = []
        handle = self.register_load_state_dict_post_hook(
            lambda module, keys: loads.append(keys)
        )
        try:
            super().load_original_weights(logger)
        finally:
            handle.remove()
        if len(loads) != 1:
            raise RuntimeError(
                f'{type(self).__name__}: expected one state-dict load from '
                f'{self.pretrained!r}, saw {len(loads)}'
            )
        inserted_prefixes = self._inserted_prefixes()
        missing = [
            k
            for k in loads[0].missing_keys
            if not any(k.startswith(p) for p in inserted_prefixes)
        ]
        # MMAction2's conversion leaves BN counters (num_batches_tracked,
        # in newer torchvision files) unmapped; they are not weights
        unexpected = [
            k
            for k in loads[0].unexpected_keys
            if not k.startswith('fc.')
            and not k.endswith('.num_batches_tracked')
        ]
        if missing or unexpected:
            raise RuntimeError(
                f'ImageNet checkpoint {self.pretrained!r} does not match the '
                f'ResNet-{self.depth} backbone: missing keys {missing}, '
                f'unexpected keys {unexpected}'
            )
        logger.info(
            f'{type(self).__name__}: every ResNet-{self.depth} tensor loaded '
            f'from {self.pretrained}; '
            f'{len(loads[0].missing_keys)} tensors of inserted blocks keep '
            'their own initialisation'
        )

    def _inserted_prefixes(self):
        ids = {id(m) for m in self.inserted}
        prefixes = []
        for name, module in self.named_modules():
            if id(module) in ids:
                prefixes.append(name + '.')
        return prefixes

    def init_weights(self):
        if self.pretrained2d and not isinstance(self.pretrained, str):
            # ResNetTSM would fail inside the checkpoint loader
            raise ValueError(
                f'{type(self).__name__}: pretrained2d=True loads ImageNet '
                f'weights from `pretrained`, got pretrained='
                f'{self.pretrained!r}; set pretrained2d=False to start from '
                'scratch'
            )
        super().init_weights()
        # ResNet's init and the pretrained2d path never reach modules below
        # the direct children: initialise every insertion explicitly.
        self._init_inserted()

    def forward_stem(self, x):
        """Input frames -> the stem output that enters layer1 (conv1 +
        max-pool). Backbones with their own input path override it (EAN's
        latent motion code, BQN's band-pass input)."""
        check_segments(x, self.num_segments, type(self).__name__)
        return self.maxpool(self.conv1(x))

    def forward_stages(self, x, after_stage=None):
        """The stages (res2..res5) with their inserted blocks, from the stem
        output ``x``; the outputs of ``out_indices``.

        Args:
            x (Tensor): ``(N*T, 64, H/4, W/4)``, what :meth:`forward_stem`
                returns.
            after_stage (dict[int, Callable], optional): ``{i: f}`` runs
                ``x = f(x)`` after stage ``i`` and its blocks, for backbones
                that fuse another path in (TDN after res2).
        """
        after_stage = after_stage or {}
        outs = []
        for i, layer_name in enumerate(self.res_layers):
            x = getattr(self, layer_name)(x)
            if layer_name in self.stage_blocks:
                x = self.stage_blocks[layer_name](x)
            if i in after_stage:
                x = after_stage[i](x)
            if i in self.out_indices:
                outs.append(x)
        return outs[0] if len(outs) == 1 else tuple(outs)

    def forward(self, x):
        return self.forward_stages(self.forward_stem(x))


@MODELS.register_module()
class ResNetWithBlocks(ResNetTSMWithBlocks):
    """The same insertion mechanism on a plain ResNet (TSN: no shift)."""

    def __init__(
        self,
        depth: int,
        blocks: Optional[List[dict]] = None,
        is_shift: bool = False,
        **kwargs,
    ):
        super().__init__(depth, blocks=blocks, is_shift=is_shift, **kwargs)
