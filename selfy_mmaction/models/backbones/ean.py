"""TSM-ResNet with EAN's Latent Motion Code added after the stem."""

from typing import Optional

from mmaction.registry import MODELS

from ...ops.layout import split_snippets
from ..blocks.ean import EANLatentMotionCode
from .resnet_blocks import ResNetTSMWithBlocks


@MODELS.register_module()
class EANResNet(ResNetTSMWithBlocks):
    """``ResNetTSMWithBlocks`` whose stem output gets EAN's latent motion
    code (:class:`EANLatentMotionCode`) added with weight 1 before layer1.

    Input ``(N*T*L, 3, H, W)``: ``T`` segments of ``L`` consecutive frames,
    ordered segment by segment (``SampleFrames(clip_len=L, frame_interval=1,
    num_clips=T)``). The RGB path sees the middle frame ``L // 2`` of each
    segment; the code sees all ``L``. Output as ResNetTSM, one map per
    segment ``(N*T, C, H/32, W/32)``: use ``TDNHead(snippet_len=L)``.

    Args:
        depth (int): ResNet depth. Defaults to 50.
        num_segments (int): ``T``. Defaults to 8.
        snippet_len (int): ``L``. Defaults to 5.
        motion_code (dict, optional): Other ``EANLatentMotionCode``
            arguments (``patch_size``, ``embed_channels`` ...).
        **kwargs: ``ResNetTSMWithBlocks``/``ResNetTSM`` arguments
            (``is_shift`` defaults to True: TSM-R50 as in EAN).
    """

    def __init__(
        self,
        depth: int = 50,
        num_segments: int = 8,
        snippet_len: int = 5,
        motion_code: Optional[dict] = None,
        **kwargs,
    ):
        self.snippet_len = snippet_len
        self.motion_code_cfg = dict(motion_code or {})
        super().__init__(depth, num_segments=num_segments, **kwargs)

    def init_structure(self):
        super().init_structure()
        self.latent_motion_code = EANLatentMotionCode(
            snippet_len=self.snippet_len,
            in_channels=self.in_channels,
            out_channels=self.conv1.conv.out_channels,
            **self.motion_code_cfg,
        )
        # initialised and key-checked with the inserted blocks
        self.inserted.append(self.latent_motion_code)

    def forward_stem(self, x):
        snippets = split_snippets(
            x, self.num_segments, self.snippet_len, type(self).__name__
        )
        x = self.maxpool(self.conv1(snippets[:, self.snippet_len // 2]))
        return x + self.latent_motion_code(snippets, x.shape[-2:])
