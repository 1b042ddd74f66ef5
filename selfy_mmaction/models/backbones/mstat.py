"""MSTAT: a three-stage video Transformer after Tang et al., "Multi-Stage
Spatio-Temporal Aggregation Transformer for Video Person
Re-identification", IEEE TMM 2023 (arXiv 2301.00531).

No code is public and only the abstract was read. **From the abstract:** a
video Transformer in three stages that encode attribute-, identity- and
attribute-identity-associated information; every stage is built of STA
modules (self-attention along space and along time separately); two proxy
embedding modules, Attribute-Aware (AAP) and Identity-Aware (IAP); temporal
patch shuffling for robustness; the outputs of all stages are combined for
the final identification. **Ours** (every choice a constructor argument):

* ViT-style per-frame patch embedding (``patch_size``), spatial position
  embedding (interpolated bicubically to other input sizes), then
  ``sum(stage_depths)`` layers, each ``SpaceTimeAttention`` (spatial
  attention per frame, temporal attention per token index with a temporal
  position embedding and a zero-initialised output: an ImageNet ViT starts
  as a per-frame ViT) followed by a pre-norm GELU MLP.
* Proxies are learnable tokens added to every frame's token sequence
  (``base + offset_i``; ``base`` is the ViT class token plus its position
  embedding when ImageNet weights are loaded, offsets trunc normal 0.02).
  Stage 1 (attribute) carries ``num_attribute_proxies`` AAP tokens, stage 2
  (identity) ``num_identity_proxies`` fresh IAP tokens, stage 3
  (attribute-identity) the AAP tokens leaving stage 1 together with the IAP
  tokens leaving stage 2. Proxies and patches attend to each other in the
  spatial step; each proxy slot attends along time in the temporal step.
* Stage ``i``'s output: its proxy tokens, layer-normed (``stage_norms[i]``),
  averaged over the proxies: one ``D``-vector per frame.
* ``combine``: ``'concat'`` (default, ``3D`` per frame), ``'mean'`` (``D``)
  or ``None`` (the tuple of the three stage outputs, for a re-ID head that
  combines them itself).
* Temporal patch shuffling is the data transform
  :class:`~selfy_mmaction.datasets.TemporalPatchShuffle` (opt-in).

Input ``(N*T, C, H, W)`` (Recognizer2D, ``FormatShape('NCHW')``) or
``(N, C, T, H, W)``; ``T`` must equal ``num_segments``. Output per frame,
``(N*T, D')`` (frames of a clip consecutive), so a ``TSNHead`` with
``spatial_type=None`` averages the frames as for any 2D backbone; a re-ID
head averages ``out.view(N, T, -1).mean(1)``.

ImageNet ViT weights (timm's ``VisionTransformer`` keys, e.g.
``vit_base_patch16_224``) load from ``pretrained`` (a local path or URL,
read with MMEngine's ``CheckpointLoader``) with a strict check: every
checkpoint tensor except ``head.*`` must be used and every backbone
parameter except the new ones (temporal attention and norm, temporal
position embeddings, proxy offsets) must be loaded, with matching shapes.
"""

import math
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmcv.cnn import build_norm_layer
from mmcv.cnn.bricks.transformer import FFN, PatchEmbed
from mmengine.logging import MMLogger
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_
from mmengine.runner.checkpoint import CheckpointLoader

from ...ops.layout import check_segments
from ..blocks.sta import SpaceTimeAttention

COMBINE_MODES = ('concat', 'mean', None)
#: Parameters an ImageNet ViT does not have (left at their init on loading).
NEW_PARAM_MARKERS = (
    '.sta.attn_t.',
    '.sta.norm_t.',
    '.sta.pos_t',
    'time_embed',
    'attribute_offsets',
    'identity_offsets',
)


class MSTATLayer(BaseModule):
    """One STA layer: :class:`SpaceTimeAttention` (temporal output zero at
    init), then ``x + MLP(LN(x))`` (GELU, ``mlp_ratio * D`` hidden).

    Input and output ``(N, T, S, D)``.
    """

    def __init__(
        self,
        embed_dims: int,
        num_heads: int,
        num_frames: int,
        mlp_ratio: float,
        drop_rate: float,
        attn_drop: float,
        drop_path: float,
        temporal_pos: bool,
        norm_cfg: dict,
    ):
        super().__init__()
        self.sta = SpaceTimeAttention(
            embed_dims,
            num_heads,
            num_frames,
            temporal_pos=temporal_pos,
            zero_init_temporal=True,
            attn_drop=attn_drop,
            proj_drop=drop_rate,
            drop_path=drop_path,
            norm_cfg=norm_cfg,
        )
        self.norm_ffn = build_norm_layer(norm_cfg, embed_dims)[1]
        self.ffn = FFN(
            embed_dims,
            int(embed_dims * mlp_ratio),
            act_cfg=dict(type='GELU'),
            ffn_drop=drop_rate,
            dropout_layer=dict(type='DropPath', drop_prob=drop_path),
        )

    def init_weights(self):
        """MLP linears trunc normal 0.02 with zero bias (ViT's), the
        attention as :meth:`SpaceTimeAttention.init_weights`."""
        for m in self.ffn.modules():
            if isinstance(m, nn.Linear):
                trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)
        self.sta.init_weights()

    def forward(self, x):
        x = self.sta(x)
        return self.ffn(self.norm_ffn(x), identity=x)


@MODELS.register_module()
class MSTAT(BaseModule):
    """Multi-stage spatio-temporal aggregation Transformer (see the module
    docstring for what is the paper's and what is ours).

    Args:
        num_segments (int): Frames per clip ``T``. Defaults to 8 (the
            setting commonly used for MARS; not confirmed from the paper).
        img_size (int | tuple): Input ``(H, W)`` the spatial position
            embedding is made for; other sizes are interpolated. Defaults to
            ``(256, 128)`` (re-ID person crops).
        patch_size (int): Patch size and stride. Defaults to 16.
        in_channels (int): Input channels. Defaults to 3.
        embed_dims (int): ``D``. Defaults to 768 (ViT-B).
        num_heads (int): Attention heads. Defaults to 12 (ViT-B).
        mlp_ratio (float): MLP hidden size over ``D``. Defaults to 4.
        stage_depths (Sequence[int]): Layers of the attribute, identity and
            attribute-identity stages (each >= 1). Defaults to ``(4, 4, 4)``
            (ViT-B's 12 blocks split evenly; ours).
        num_attribute_proxies (int): AAP tokens. Defaults to 4 (ours).
        num_identity_proxies (int): IAP tokens. Defaults to 1 (ours).
        combine (str | None): ``'concat'``, ``'mean'`` or ``None`` (tuple of
            the three stage outputs). Defaults to ``'concat'``.
        temporal_pos (bool): Temporal position embeddings in the temporal
            attentions (queries and keys). Defaults to True.
        time_embed (bool): A learnable per-frame embedding added to the
            patch tokens at the input (TimeSformer's ``time_embed``; ours),
            zero at init, so the values of the temporal attentions carry the
            frame index too. Defaults to True.
        drop_rate (float): Dropout after the patch embedding, on attention
            and MLP outputs. Defaults to 0.
        attn_drop (float): Attention-weight dropout. Defaults to 0.
        drop_path_rate (float): Stochastic depth, rising linearly to this
            over the layers. Defaults to 0.1.
        norm_cfg (dict): Norm layers. Defaults to ``dict(type='LN',
            eps=1e-6)`` (ViT's).
        pretrained (str, optional): timm ImageNet ViT checkpoint (path or
            URL). Its depth, width, patch size and head count must match;
            a different position grid is interpolated. Defaults to None
            (random init).
        init_cfg (dict, optional): MMEngine init config (not needed for the
            ViT weights: use ``pretrained``). Defaults to None.
    """

    def __init__(
        self,
        num_segments: int = 8,
        img_size=(256, 128),
        patch_size: int = 16,
        in_channels: int = 3,
        embed_dims: int = 768,
        num_heads: int = 12,
        mlp_ratio: float = 4.0,
        stage_depths: Sequence[int] = (4, 4, 4),
        num_attribute_proxies: int = 4,
        num_identity_proxies: int = 1,
        combine: Optional[str] = 'concat',
        temporal_pos: bool = True,
        time_embed: bool = True,
        drop_rate: float = 0.0,
        attn_drop: float = 0.0,
        drop_path_rate: float = 0.1,
        norm_cfg: dict = dict(type='LN', eps=1e-6),
        pretrained: Optional[str] = None,
        init_cfg: Optional[dict] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        stage_depths = tuple(int(d) for d in stage_depths)
        if len(stage_depths) != 3 or min(stage_depths) < 1:
            raise ValueError(
                f'MSTAT needs three stages of >= 1 layer, got '
                f'stage_depths={stage_depths}'
            )
        if num_attribute_proxies < 1 or num_identity_proxies < 1:
            raise ValueError(
                f'MSTAT needs >= 1 proxy per kind, got num_attribute_proxies='
                f'{num_attribute_proxies}, num_identity_proxies='
                f'{num_identity_proxies}'
            )
        if combine not in COMBINE_MODES:
            raise ValueError(
                f'combine must be one of {COMBINE_MODES}, got {combine!r}'
            )
        img_size = (
            (img_size, img_size)
            if isinstance(img_size, int)
            else tuple(img_size)
        )
        self.num_segments = num_segments
        self.patch_size = patch_size
        self.embed_dims = embed_dims
        self.num_heads = num_heads
        self.stage_depths = stage_depths
        self.num_attribute_proxies = num_attribute_proxies
        self.num_identity_proxies = num_identity_proxies
        self.combine = combine
        self.pretrained = pretrained
        self.grid_size = (
            math.ceil(img_size[0] / patch_size),
            math.ceil(img_size[1] / patch_size),
        )

        self.patch_embed = PatchEmbed(
            in_channels=in_channels,
            embed_dims=embed_dims,
            kernel_size=patch_size,
            stride=patch_size,
            padding='corner',
        )
        self.pos_embed = nn.Parameter(
            torch.zeros(1, self.grid_size[0] * self.grid_size[1], embed_dims)
        )
        self.time_embed = (
            nn.Parameter(torch.zeros(1, num_segments, 1, embed_dims))
            if time_embed
            else None
        )
        self.drop_after_pos = nn.Dropout(drop_rate)
        # proxies: a shared base (the ViT class token) + per-proxy offsets
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dims))
        self.attribute_offsets = nn.Parameter(
            torch.zeros(num_attribute_proxies, embed_dims)
        )
        self.identity_offsets = nn.Parameter(
            torch.zeros(num_identity_proxies, embed_dims)
        )

        depth = sum(stage_depths)
        rates = torch.linspace(0, drop_path_rate, depth).tolist()
        self.layers = nn.ModuleList(
            [
                MSTATLayer(
                    embed_dims,
                    num_heads,
                    num_segments,
                    mlp_ratio,
                    drop_rate,
                    attn_drop,
                    rates[i],
                    temporal_pos,
                    norm_cfg,
                )
                for i in range(depth)
            ]
        )
        self.stage_norms = nn.ModuleList(
            [build_norm_layer(norm_cfg, embed_dims)[1] for _ in range(3)]
        )

    @property
    def out_channels(self) -> int:
        """Feature size per frame under ``combine``."""
        return self.embed_dims * (3 if self.combine == 'concat' else 1)

    # ------------------------------------------------------------------ init
    def init_weights(self):
        """Random init (ViT's: trunc normal 0.02 for tokens, embeddings and
        MLP linears; the patch embedding keeps PyTorch's conv init; the
        time embedding zero), then ``init_cfg`` if given, then the ImageNet
        ViT weights if ``pretrained``."""
        if self.time_embed is not None:
            nn.init.zeros_(self.time_embed)
        for p in (
            self.pos_embed,
            self.cls_token,
            self.attribute_offsets,
            self.identity_offsets,
        ):
            trunc_normal_(p, std=0.02)
        for layer in self.layers:
            layer.init_weights()
        if self.init_cfg is not None:
            super().init_weights()
        if self.pretrained is not None:
            self.load_vit(self.pretrained)

    def load_vit(self, filename: str):
        """Load a timm ImageNet ViT checkpoint with a strict key check."""
        ckpt = CheckpointLoader.load_checkpoint(filename, map_location='cpu')
        for key in ('state_dict', 'model'):
            if isinstance(ckpt, dict) and key in ckpt:
                ckpt = ckpt[key]
        converted = self.convert_timm_vit(ckpt)
        own = self.state_dict()
        for key, value in converted.items():
            if own[key].shape != value.shape:
                raise RuntimeError(
                    f'ViT checkpoint {filename!r}: {key} has shape '
                    f'{tuple(value.shape)}, MSTAT expects '
                    f'{tuple(own[key].shape)}'
                )
        missing = [
            k
            for k in own
            if k not in converted
            and not any(m in k for m in NEW_PARAM_MARKERS)
        ]
        if missing:
            raise RuntimeError(
                f'ViT checkpoint {filename!r} leaves MSTAT '
                f'parameters unset: {missing}'
            )
        self.load_state_dict(converted, strict=False)
        MMLogger.get_current_instance().info(
            f'MSTAT: loaded {len(converted)} tensors from ViT checkpoint '
            f'{filename}'
        )

    def convert_timm_vit(
        self, ckpt: Dict[str, torch.Tensor]
    ) -> Dict[str, torch.Tensor]:
        """timm ``VisionTransformer`` keys -> MSTAT keys.

        ``cls_token + pos_embed[:, :1]`` becomes the proxy base
        ``cls_token``; the patch position grid (square in the checkpoint) is
        interpolated bicubically to ``grid_size``; block ``i`` fills layer
        ``i`` (``qkv`` -> the spatial attention's ``in_proj``, ``norm1`` ->
        its pre-norm, ``norm2``/``mlp`` -> the MLP); the final ``norm``
        fills the three stage norms. ``head.*`` is dropped; any other
        unknown key raises.
        """
        ckpt = {
            k[len('module.') :] if k.startswith('module.') else k: v
            for k, v in ckpt.items()
        }
        depth = len(self.layers)
        blocks = sorted(
            {int(k.split('.')[1]) for k in ckpt if k.startswith('blocks.')}
        )
        if blocks != list(range(depth)):
            raise RuntimeError(
                f'ViT checkpoint has {len(blocks)} blocks, '
                f'MSTAT has {depth} layers '
                f'(stage_depths={self.stage_depths})'
            )
        names = {
            'patch_embed.proj.weight': 'patch_embed.projection.weight',
            'patch_embed.proj.bias': 'patch_embed.projection.bias',
        }
        per_block = {
            'norm1': 'sta.norm_s',
            'attn.qkv.weight': 'sta.attn_s.attn.in_proj_weight',
            'attn.qkv.bias': 'sta.attn_s.attn.in_proj_bias',
            'attn.proj': 'sta.attn_s.attn.out_proj',
            'norm2': 'norm_ffn',
            'mlp.fc1': 'ffn.layers.0.0',
            'mlp.fc2': 'ffn.layers.1',
        }
        out, unused = {}, []
        for key, value in ckpt.items():
            if key in names:
                out[names[key]] = value
            elif key in ('cls_token', 'pos_embed'):
                continue  # below
            elif key.startswith('norm.'):
                for i in range(3):
                    out[f'stage_norms.{i}.{key[5:]}'] = value
            elif key.startswith('blocks.'):
                _, idx, rest = key.split('.', 2)
                for src, dst in per_block.items():
                    if rest.startswith(src):
                        out[f'layers.{idx}.{dst}{rest[len(src) :]}'] = value
                        break
                else:
                    unused.append(key)
            elif not key.startswith('head.'):
                unused.append(key)
        if unused or 'cls_token' not in ckpt or 'pos_embed' not in ckpt:
            raise RuntimeError(
                f'not a timm ViT checkpoint MSTAT can use: unknown keys '
                f'{unused}, cls_token/pos_embed present: '
                f'{"cls_token" in ckpt}/{"pos_embed" in ckpt}'
            )
        pos = ckpt['pos_embed']
        out['cls_token'] = ckpt['cls_token'] + pos[:, :1]
        side = math.isqrt(pos.shape[1] - 1)
        if side * side != pos.shape[1] - 1:
            raise RuntimeError(
                f'ViT checkpoint pos_embed {tuple(pos.shape)}'
                f' is not 1 + a square grid of patches'
            )
        out['pos_embed'] = _resize_pos(
            pos[:, 1:], (side, side), self.grid_size
        )
        return out

    # --------------------------------------------------------------- forward
    def _frames(self, x):
        """``(N*T, C, H, W)`` or ``(N, C, T, H, W)`` -> ``(N*T, C, H, W)``,
        ``N``."""
        if x.dim() == 5:
            if x.shape[2] != self.num_segments:
                raise ValueError(
                    f'MSTAT: (N, C, T, H, W) input has T={x.shape[2]}, '
                    f'expected num_segments={self.num_segments}'
                )
            n, c, t, h, w = x.shape
            return x.transpose(1, 2).reshape(n * t, c, h, w), n
        if x.dim() != 4:
            raise ValueError(
                f'MSTAT expects (N*T, C, H, W) or (N, C, T, H, '
                f'W) input, got shape {tuple(x.shape)}'
            )
        return x, check_segments(x, self.num_segments, 'MSTAT')

    def _proxies(self, offsets, n):
        """``(N, T, P, D)`` copies of ``cls_token + offsets``."""
        p = self.cls_token[0] + offsets
        return p.expand(n, self.num_segments, -1, -1)

    def _run(self, x, first, last):
        for layer in self.layers[first:last]:
            x = layer(x)
        return x

    def forward_stages(self, x) -> Tuple[torch.Tensor, ...]:
        """The three stage outputs, each ``(N*T, D)``."""
        x, n = self._frames(x)
        tokens, grid = self.patch_embed(x)
        pos = (
            self.pos_embed
            if grid == self.grid_size
            else _resize_pos(self.pos_embed, self.grid_size, grid)
        )
        tokens = (tokens + pos).view(n, self.num_segments, *tokens.shape[1:])
        if self.time_embed is not None:
            tokens = tokens + self.time_embed
        tokens = self.drop_after_pos(tokens)
        d1, d2, _ = self.stage_depths
        na, ni = self.num_attribute_proxies, self.num_identity_proxies
        # stage 1: attribute proxies
        x = torch.cat([self._proxies(self.attribute_offsets, n), tokens], 2)
        x = self._run(x, 0, d1)
        aap, tokens = x[:, :, :na], x[:, :, na:]
        # stage 2: fresh identity proxies
        x = torch.cat([self._proxies(self.identity_offsets, n), tokens], 2)
        x = self._run(x, d1, d1 + d2)
        iap, tokens = x[:, :, :ni], x[:, :, ni:]
        # stage 3: both proxy sets, as they left their stages
        x = self._run(torch.cat([aap, iap, tokens], 2), d1 + d2, None)
        proxies = (aap, iap, x[:, :, : na + ni])
        return tuple(
            norm(p).mean(2).flatten(0, 1)
            for norm, p in zip(self.stage_norms, proxies)
        )

    def forward(self, x):
        """``combine='concat'``: ``(N*T, 3D)``; ``'mean'``: ``(N*T, D)``;
        ``None``: the tuple of the three ``(N*T, D)`` stage outputs."""
        outs = self.forward_stages(x)
        if self.combine == 'concat':
            return torch.cat(outs, dim=1)
        if self.combine == 'mean':
            return torch.stack(outs).mean(0)
        return outs


def _resize_pos(pos, src: Tuple[int, int], dst: Tuple[int, int]):
    """``(1, src_h*src_w, D)`` patch position embeddings -> ``dst`` grid
    (bicubic, ``align_corners=False``)."""
    if tuple(src) == tuple(dst):
        return pos
    d = pos.shape[-1]
    grid = pos.reshape(1, src[0], src[1], d).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, size=dst, mode='bicubic', align_corners=False)
    return grid.permute(0, 2, 3, 1).reshape(1, dst[0] * dst[1], d)
