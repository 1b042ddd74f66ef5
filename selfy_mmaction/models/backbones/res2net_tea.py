"""TEA's backbone: a Res2Net (26w x 4s) whose every bottleneck is a
:class:`~selfy_mmaction.models.blocks.tea.TEABottleneck`.

TEA changes the ResNet itself (Res2Net widths and the split into fragments),
so it does not go through the block-insertion backbone. Stem, stages,
``out_indices``, ``norm_eval``, ``partial_bn``, ``frozen_stages`` and
``with_cp`` are MMAction2's ``ResNet``'s.

ImageNet weights: ``pretrained`` is the path of a Res2Net checkpoint in the
official key format (``layer1.0.convs.0.weight``, ``layer1.0.bns.0.*``,
``downsample.0/1``, ...), e.g. ``res2net50_26w_4s-06e79181.pth``. Every
Res2Net tensor must load; the TEA layers (``me``, ``temporal_convs``) are
new. Mismatches raise an error that lists the keys.
"""

from functools import partial
from typing import Optional

from mmaction.models.backbones.resnet import ResNet
from mmaction.registry import MODELS
from mmcv.cnn import ConvModule
from mmengine.logging import MMLogger
from mmengine.model import BaseModule
from mmengine.runner.checkpoint import _load_checkpoint

from ...ops.layout import check_segments
from ...ops.temporal import TemporalConv1d
from ..blocks.tea import TEABottleneck, TEAMotionExcitation


@MODELS.register_module()
class TEARes2Net(ResNet):
    """Res2Net with TEA bottlenecks (ME + MTA) in all stages.

    Args:
        depth (int): 50 or 101 (stage depths of ResNet-50/101).
        num_segments (int): ``T``. Defaults to 8.
        base_width (int): Res2Net base width. Defaults to 26.
        scale (int): Res2Net scale (fragments). Defaults to 4.
        me_reduction (int): ME channel reduction. Defaults to 16.
        pretrained (str, optional): Path of an ImageNet Res2Net checkpoint
            (see the module docstring); None trains from scratch.
        **kwargs: Other ``ResNet`` arguments (``out_indices``,
            ``norm_eval``, ``partial_bn``, ``frozen_stages``, ``with_cp``,
            ``norm_cfg`` ...).

    Input ``(N*T, 3, H, W)``; output ``(N*T, 2048, H/32, W/32)``.
    """

    stage_depths = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3)}

    def __init__(
        self,
        depth: int = 50,
        num_segments: int = 8,
        base_width: int = 26,
        scale: int = 4,
        me_reduction: int = 16,
        pretrained: Optional[str] = None,
        **kwargs,
    ):
        if depth not in self.stage_depths:
            raise KeyError(
                f'TEARes2Net depth must be one of '
                f'{sorted(self.stage_depths)}, got {depth}'
            )
        if pretrained is not None and not isinstance(pretrained, str):
            raise TypeError(
                f'pretrained must be a path or None, got '
                f'{type(pretrained).__name__}'
            )
        block = partial(
            TEABottleneck,
            num_segments=num_segments,
            base_width=base_width,
            scale=scale,
            me_reduction=me_reduction,
        )
        block.expansion = TEABottleneck.expansion
        # ResNet.__init__ builds its stages from arch_settings[depth]
        self.arch_settings = {depth: (block, self.stage_depths[depth])}
        self.num_segments = num_segments
        self.base_width = base_width
        self.scale = scale
        super().__init__(depth, pretrained=pretrained, **kwargs)

    def init_weights(self):
        """Kaiming (fan_out) convs and unit BNs (``init_cfg``), the TEA
        layers of every block (identity/shift temporal convs), then the
        Res2Net checkpoint if ``pretrained`` is set."""
        BaseModule.init_weights(self)
        for module in self.modules():
            if isinstance(module, TEABottleneck):
                module.init_weights()
        if self.pretrained:
            self.load_res2net_weights(MMLogger.get_current_instance())

    def _checkpoint_names(self):
        """Map each of our Res2Net tensors to its name in an official Res2Net
        checkpoint (``conv1.conv -> conv1``, ``conv1.bn -> bn1``,
        ``convs.j.bn -> bns.j``, ``downsample.conv/bn -> downsample.0/1``)."""
        new_modules = (TEAMotionExcitation, TemporalConv1d)
        new_prefixes = [
            name + '.'
            for name, m in self.named_modules()
            if isinstance(m, new_modules)
        ]
        names = {}
        for name, module in self.named_modules():
            if not isinstance(module, ConvModule) or any(
                name.startswith(p) for p in new_prefixes
            ):
                continue
            if name.endswith('downsample'):
                conv_name, bn_name = name + '.0', name + '.1'
            else:  # layerX.Y.convs.j -> layerX.Y.bns.j, conv1 -> bn1 ...
                conv_name, bn_name = name, name.replace('conv', 'bn')
            for key in module.conv.state_dict():
                names[f'{name}.conv.{key}'] = f'{conv_name}.{key}'
            for key in module.bn.state_dict():
                names[f'{name}.bn.{key}'] = f'{bn_name}.{key}'
        return names

    def load_res2net_weights(self, logger):
        """Load an official-format Res2Net checkpoint (``self.pretrained``)
        into the Res2Net part; raise listing any missing, unexpected or
        mis-shaped key."""
        checkpoint = _load_checkpoint(self.pretrained, map_location='cpu')
        state = checkpoint.get('state_dict', checkpoint)
        own = self.state_dict()
        names = self._checkpoint_names()
        loaded, missing, mismatched = {}, [], []
        for ours, theirs in names.items():
            if theirs not in state:
                if not theirs.endswith('num_batches_tracked'):
                    missing.append(theirs)
            elif state[theirs].shape != own[ours].shape:
                mismatched.append(
                    f'{theirs}: checkpoint '
                    f'{tuple(state[theirs].shape)}, model '
                    f'{tuple(own[ours].shape)}'
                )
            else:
                loaded[ours] = state[theirs]
        used = set(names.values())
        unexpected = [
            k for k in state if k not in used and not k.startswith('fc.')
        ]
        if missing or mismatched or unexpected:
            raise RuntimeError(
                f'{self.pretrained!r} is not a Res2Net-{self.depth} '
                f'{self.base_width}w x {self.scale}s checkpoint in the '
                f'official key format: {len(missing)} missing keys '
                f'{missing[:10]}, {len(mismatched)} shape mismatches '
                f'{mismatched[:10]}, {len(unexpected)} unexpected keys '
                f'{unexpected[:10]}'
            )
        self.load_state_dict(loaded, strict=False)
        logger.info(
            f'TEARes2Net: loaded {len(loaded)} tensors from '
            f'{self.pretrained}; {len(own) - len(loaded)} tensors '
            f'(ME, temporal convs, BN counters) keep their init'
        )

    def forward(self, x):
        check_segments(x, self.num_segments, type(self).__name__)
        return super().forward(x)
