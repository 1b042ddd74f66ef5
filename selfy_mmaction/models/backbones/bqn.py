"""BQN backbones: the busy TSM-ResNet on band-passed input and the two-pathway
Busy-Quiet net (see :mod:`selfy_mmaction.models.blocks.bqn`)."""

from typing import Optional, Sequence

import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from ...ops.layout import split_snippets
from ..blocks.bqn import BAND_PASS_TAPS, BusyQuietLateral, MotionBandPass
from .resnet_blocks import ResNetTSMWithBlocks, _conv_out_channels

#: Frames per segment of BQN's input (the input MBPM's temporal kernel).
BQN_SNIPPET_LEN = len(BAND_PASS_TAPS)


@MODELS.register_module()
class BusyResNetTSM(ResNetTSMWithBlocks):
    """BQN's busy network: TSM-ResNet whose input is one band-passed frame per
    segment (the input MBPM on 3 consecutive frames, before conv1).

    Input ``(N*T*3, 3, H, W)``: ``T`` segments of 3 consecutive frames,
    ordered segment by segment (``SampleFrames(clip_len=3, frame_interval=1,
    num_clips=T)``); ``H, W > kernel_size // 2`` (reflect padding). Output
    as ResNetTSM, one map per segment: use ``TDNHead(snippet_len=3)``.

    Args:
        depth (int): ResNet depth. Defaults to 50.
        band_pass (dict, optional): ``MotionBandPass`` arguments; defaults to
            ``dict(sigma=1.1, kernel_size=9)``.
        **kwargs: ``ResNetTSMWithBlocks``/``ResNetTSM`` arguments
            (``num_segments``, ``is_shift`` (True) ...).
    """

    snippet_len = BQN_SNIPPET_LEN

    def __init__(
        self, depth: int = 50, band_pass: Optional[dict] = None, **kwargs
    ):
        self.band_pass_cfg = dict(sigma=1.1, kernel_size=9)
        self.band_pass_cfg.update(band_pass or {})
        super().__init__(depth, **kwargs)

    def init_structure(self):
        super().init_structure()
        self.band_pass = MotionBandPass(
            self.in_channels,
            self.snippet_len,
            snippet=True,
            **self.band_pass_cfg,
        )
        # initialised and key-checked with the inserted blocks
        self.inserted.append(self.band_pass)

    def forward_stem(self, x):
        snippets = split_snippets(
            x, self.num_segments, self.snippet_len, type(self).__name__
        )
        return self.maxpool(self.conv1(self.band_pass(snippets)))


@MODELS.register_module()
class BQNResNet(BaseModule):
    """BQN: a quiet and a busy TSM-ResNet with laterals after every block.

    Quiet pathway: the first frame of each 3-frame segment. Busy pathway:
    :class:`BusyResNetTSM`. After each pair of blocks
    :class:`~selfy_mmaction.models.blocks.bqn.BusyQuietLateral` exchanges
    features (zero at init: each pathway then equals its plain network).
    Output: the mean of the two pathways' features, ``(N*T, C, H/32,
    W/32)``; with ``TDNHead(snippet_len=3)`` (average pooling, one shared FC,
    average consensus, all linear) the logits equal the official average of
    the two pathways' logits, except that dropout draws one mask for the
    mean instead of one per pathway.

    Args:
        depth (int): ResNet depth of both pathways. Defaults to 50.
        num_segments (int): ``T``. Defaults to 8.
        input_band_pass (dict, optional): The busy input MBPM's arguments;
            defaults to ``dict(sigma=1.1, kernel_size=9)``.
        lateral_sigma (float): Feature MBPM sigma. Defaults to 0.9.
        lateral_kernel_sizes (Sequence[int]): Feature MBPM LoG size per
            stage. Defaults to ``(7, 7, 7, 3)``.
        pretrained (str, optional): ImageNet (torchvision) checkpoint loaded
            into each pathway.
        pretrained2d (bool): Load ``pretrained`` as a 2D ImageNet
            checkpoint (ResNetTSM's default True).
        **kwargs: Other ``ResNetTSMWithBlocks`` arguments shared by both
            pathways (``is_shift``, ``shift_div``, ``blocks`` ...).
    """

    snippet_len = BQN_SNIPPET_LEN

    def __init__(
        self,
        depth: int = 50,
        num_segments: int = 8,
        input_band_pass: Optional[dict] = None,
        lateral_sigma: float = 0.9,
        lateral_kernel_sizes: Sequence[int] = (7, 7, 7, 3),
        pretrained: Optional[str] = None,
        pretrained2d: bool = True,
        **kwargs,
    ):
        super().__init__()
        if kwargs.get('temporal_pool'):
            raise ValueError('BQNResNet does not support temporal_pool')
        self.num_segments = num_segments
        kwargs.update(pretrained=pretrained, pretrained2d=pretrained2d)
        self.quiet = ResNetTSMWithBlocks(
            depth, num_segments=num_segments, **kwargs
        )
        self.busy = BusyResNetTSM(
            depth,
            band_pass=input_band_pass,
            num_segments=num_segments,
            **kwargs,
        )
        stages = self.quiet.res_layers
        if len(lateral_kernel_sizes) != len(stages):
            raise ValueError(
                f'lateral_kernel_sizes needs one LoG size per '
                f'stage ({len(stages)}), got '
                f'{tuple(lateral_kernel_sizes)}'
            )
        self.laterals = nn.ModuleList()
        for name, k in zip(stages, lateral_kernel_sizes):
            self.laterals.append(
                nn.ModuleList(
                    BusyQuietLateral(
                        _block_out_channels(block),
                        num_segments,
                        lateral_sigma,
                        k,
                    )
                    for block in getattr(self.quiet, name)
                )
            )

    def init_weights(self):
        self.quiet.init_weights()
        self.busy.init_weights()
        for stage in self.laterals:
            for lateral in stage:
                lateral.init_weights()

    def forward(self, x):
        snippets = split_snippets(
            x, self.num_segments, self.snippet_len, type(self).__name__
        )
        quiet = self.quiet.forward_stem(snippets[:, 0])
        busy = self.busy.forward_stem(x)
        outs = []
        for i, name in enumerate(self.quiet.res_layers):
            for quiet_block, busy_block, lateral in zip(
                getattr(self.quiet, name),
                getattr(self.busy, name),
                self.laterals[i],
            ):
                quiet, busy = lateral(quiet_block(quiet), busy_block(busy))
            if name in self.quiet.stage_blocks:
                quiet = self.quiet.stage_blocks[name](quiet)
                busy = self.busy.stage_blocks[name](busy)
            if i in self.quiet.out_indices:
                outs.append((quiet + busy) / 2)
        return outs[0] if len(outs) == 1 else tuple(outs)


def _block_out_channels(block):
    return _conv_out_channels(
        block.conv3 if hasattr(block, 'conv3') else block.conv2
    )
