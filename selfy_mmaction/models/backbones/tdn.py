"""TDN's backbone: a ResNet on the centre frame of each 5-frame snippet,
fused with the short-term TDM, with the long-term TDM and a learnable shift
after conv1 of every bottleneck of layer2-4 (inserted by the block mechanism
of :class:`ResNetTSMWithBlocks`).

Input ``(N*T*L, 3, H, W)``: ``T`` segments of ``L`` consecutive frames,
ordered segment by segment, as ``SampleFrames(clip_len=L, frame_interval=1,
num_clips=T, out_of_bound_opt='repeat_last')`` + ``FormatShape('NCHW')``
give. Output ``(N*T, 2048, H/32, W/32)``; use ``TDNHead(num_segments=T)``.

Differences from the official code (FBResNet): convs have no bias (the
official ones have random, trained biases, 28 K parameters) and the unused
copy of conv1 (9 K parameters) is not built, so torchvision ImageNet weights
load into every ResNet tensor.
"""

from typing import List, Optional, Sequence

import torch.nn.functional as F
from mmaction.models.backbones.resnet import make_res_layer
from mmaction.registry import MODELS
from mmcv.cnn import ConvModule
from mmengine.runner.checkpoint import _load_checkpoint

from ...ops.layout import split_snippets
from ..blocks.tdn import TDNShortTermTDM
from .resnet_blocks import ResNetTSMWithBlocks

TDN_BLOCKS = (
    dict(
        cfg=dict(type='TDNLongTermTDM'),
        position='after_conv1',
        layers=('layer2', 'layer3', 'layer4'),
    ),
    dict(
        cfg=dict(type='TDNLearnableShift'),
        position='after_conv1',
        layers=('layer2', 'layer3', 'layer4'),
    ),
)


@MODELS.register_module()
class TDNResNet(ResNetTSMWithBlocks):
    """ResNet with TDN's short-term and long-term temporal difference modules.

    RGB path: ``x = stem(I_c)`` (``I_c`` the centre frame of the snippet),
    ``x = a*x + b*up(Z1)``, ``x = layer1(x)``, ``x = a*x + b*up(Z2)``,
    layer2-4 with the inserted blocks. ``Z1 = S-TDM(snippet)``,
    ``Z2 = layer1_copy(Z1)``; ``up`` is nearest resizing to ``x``'s size
    (x2).

    Args:
        depth (int): ResNet depth (50, 101 ...).
        num_segments (int): ``T``. Defaults to 8.
        snippet_len (int): ``L``, frames per segment. Defaults to 5.
        fusion_weights (Sequence[float]): ``(a, b)``; the official code uses
            ``(0.5, 0.5)`` for 8 segments and ``(0.75, 0.25)`` otherwise.
        blocks (list[dict], optional): Insertions; defaults to the L-TDM and
            the learnable shift after conv1 of every layer2-4 bottleneck.
        pretrained (str, optional): torchvision ResNet checkpoint. The S-TDM
            gets its own copy of layer1 and a 7x7 conv whose kernel is the
            ImageNet conv1 averaged over RGB and repeated for each
            difference channel (not rescaled).
        **kwargs: Other ``ResNetTSMWithBlocks``/``ResNetTSM`` arguments;
            ``is_shift`` (TSM's fixed shift) defaults to False.
    """

    def __init__(
        self,
        depth: int = 50,
        num_segments: int = 8,
        snippet_len: int = 5,
        fusion_weights: Sequence[float] = (0.5, 0.5),
        blocks: Optional[List[dict]] = None,
        is_shift: bool = False,
        **kwargs,
    ):
        if len(fusion_weights) != 2:
            raise ValueError(
                f'fusion_weights must be (rgb, difference), got '
                f'{fusion_weights}'
            )
        if kwargs.get('temporal_pool'):
            raise ValueError('TDNResNet does not support temporal_pool')
        self.snippet_len = snippet_len
        self.fusion_weights = tuple(float(w) for w in fusion_weights)
        blocks = [dict(b) for b in TDN_BLOCKS] if blocks is None else blocks
        super().__init__(
            depth,
            blocks=blocks,
            num_segments=num_segments,
            is_shift=is_shift,
            **kwargs,
        )

    def init_structure(self):
        super().init_structure()
        self.short_term_tdm = TDNShortTermTDM(
            self.snippet_len,
            self.in_channels,
            64,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg,
        )
        self.short_term_layer1 = make_res_layer(
            self.block,
            64,
            64,
            len(self.layer1),
            stride=self.strides[0],
            dilation=self.dilations[0],
            style=self.style,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg,
            with_cp=self.with_cp,
        )

    def _inserted_prefixes(self):
        # the S-TDM is not in a torchvision checkpoint under its own names;
        # load_original_weights fills it in from conv1 and layer1
        return super()._inserted_prefixes() + [
            'short_term_tdm.',
            'short_term_layer1.',
        ]

    def init_weights(self):
        super().init_weights()
        if self.pretrained2d:
            # the ImageNet path skips ResNet's init of modules it does not
            # load; re-initialise the S-TDM stem before copying its kernel
            self.short_term_tdm.init_weights()
            self._load_short_term_weights()

    def _load_short_term_weights(self):
        """S-TDM from the torchvision checkpoint: layer1 copied, the 7x7
        kernel averaged over RGB and repeated ``L-1`` times."""
        state = _load_checkpoint(self.pretrained, map_location='cpu')
        state = state.get('state_dict', state)
        loaded = []
        for name, module in self.short_term_layer1.named_modules():
            if isinstance(module, ConvModule):
                tv_name = 'layer1.' + name
                if 'downsample' in name:
                    conv_name, bn_name = tv_name + '.0', tv_name + '.1'
                else:
                    conv_name, bn_name = tv_name, tv_name.replace('conv', 'bn')
                self._load_conv_params(module.conv, state, conv_name, loaded)
                self._load_bn_params(module.bn, state, bn_name, loaded)
        stem_kernel = state['conv1.weight'].mean(dim=1, keepdim=True)
        target = self.short_term_tdm.conv.conv.weight
        target.data.copy_(stem_kernel.expand_as(target))

    def _fuse(self, x, difference):
        rgb_weight, difference_weight = self.fusion_weights
        difference = F.interpolate(
            difference, size=x.shape[-2:], mode='nearest'
        )
        return rgb_weight * x + difference_weight * difference

    def forward(self, x):
        snippets = split_snippets(
            x, self.num_segments, self.snippet_len, type(self).__name__
        )
        short_term = self.short_term_tdm(snippets)
        x = self.maxpool(self.conv1(snippets[:, self.snippet_len // 2]))
        x = self._fuse(x, short_term)
        return self.forward_stages(
            x,
            after_stage={
                0: lambda y: self._fuse(y, self.short_term_layer1(short_term))
            },
        )
