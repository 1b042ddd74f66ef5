"""EAN's Latent Motion Code (LMC) (Tian, Yan, Zhai, Guo, Gao, "EAN: Event
Adaptive Network for Enhanced Action Recognition", IJCV 2022), the 8-frame
version of the official code (tianyuan168326/EAN-Pytorch, ``EAN_8f.py``).

Per segment of ``L = 5`` consecutive frames (``(N*T, L, 3, H, W)``):

1. nearest 1/2 downsampling (even rows/columns), ``L - 1 = 4`` frame
   differences;
2. 16x16 patches -> ``(N*T, 768, 4, H/32, W/32)``, channels ordered
   (row in patch, column in patch, colour);
3. Conv3d 1x1x1 768 -> 256 (no bias); two residual units
   ``x + [grouped 3x3x3 (g16) + BN + ReLU + 1x1x1 + BN](x)`` and
   ``x + [grouped 3x3x3 (g16) + BN](x)`` (no ReLU after the adds);
   Conv3d 1x1x1 256 -> 8*8*16 (no bias; PyTorch's default init x 0.01);
4. unpatchify to 8x8 patches of 16 channels -> ``(N*T, 16, 4, H/4, W/4)``,
   flattened to 64 channels ``c * 4 + t``: the code that EAN adds (weight 1)
   to the stem output after max-pool.

Input sizes: the official code is hard-coded for 224 px. Here any ``H, W``:
the code is computed on a grid of ``ceil(H4 / 8) x ceil(W4 / 8)`` patches
(``H4 x W4`` = the stem's output size, ``ceil(H / 4)`` for the ResNet stem);
the half-resolution differences are zero-padded at the bottom/right to
``16 * ceil(H4 / 8)`` rows (columns likewise) and the code is cropped to
``H4 x W4``. For ``H, W`` multiples of 32 nothing is padded or cropped, and
every code pixel covers the same 4x4 input pixels as the stem pixel it is
added to.

The frames are those the data preprocessor gives the backbone (normalised
with the ImageNet mean/std, as the official ``test_models.py``; its
``main_reg.py`` trained on unnormalised [0, 1] frames).
"""

import math
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmcv.cnn import ConvModule
from mmengine.model.weight_init import constant_init, kaiming_init

from .base import MotionBlock


class _ResidualUnit3d(nn.Module):
    """``x + f(x)``, ``f`` = grouped 3x3x3 conv + BN [+ ReLU + 1x1x1 conv +
    BN]."""

    def __init__(self, channels: int, groups: int, with_pointwise: bool):
        super().__init__()
        layers = [
            ConvModule(
                channels,
                channels,
                3,
                padding=1,
                groups=groups,
                bias=False,
                conv_cfg=dict(type='Conv3d'),
                norm_cfg=dict(type='BN3d'),
                act_cfg=dict(type='ReLU') if with_pointwise else None,
            )
        ]
        if with_pointwise:
            layers.append(
                ConvModule(
                    channels,
                    channels,
                    1,
                    bias=False,
                    conv_cfg=dict(type='Conv3d'),
                    norm_cfg=dict(type='BN3d'),
                    act_cfg=None,
                )
            )
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.layers(x)


@MODELS.register_module()
class EANLatentMotionCode(MotionBlock):
    """EAN's latent motion code from the frame differences of each segment
    (see the module docstring).

    Args:
        snippet_len (int): ``L``, frames per segment. Defaults to 5.
        in_channels (int): Colour channels. Defaults to 3.
        out_channels (int): Channels of the code = the stem's channels;
            ``out_channels / (L - 1)`` per frame difference. Defaults to 64.
        patch_size (int): Patch size on the half-resolution differences; the
            code's patches are ``patch_size // 2`` pixels (the stem's 1/4
            resolution). Defaults to 16.
        embed_channels (int): Width of the patch features. Defaults to 256.
        groups (int): Groups of the 3x3x3 convs. Defaults to 16.
        out_init_scale (float): Factor on the default-initialised output
            projection. Defaults to 0.01.
        init_cfg (dict, optional): Replaces :meth:`default_init`
            (:class:`MotionBlock`). Defaults to None.

    Input ``(N*T, L, C, H, W)`` and the stem's output size ``(H4, W4)``;
    output ``(N*T, out_channels, H4, W4)``.
    """

    def __init__(
        self,
        snippet_len: int = 5,
        in_channels: int = 3,
        out_channels: int = 64,
        patch_size: int = 16,
        embed_channels: int = 256,
        groups: int = 16,
        out_init_scale: float = 0.01,
        init_cfg: Optional[dict] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        if snippet_len < 2:
            raise ValueError(
                f'snippet_len must be >= 2 (frame differences), '
                f'got {snippet_len}'
            )
        if out_channels % (snippet_len - 1):
            raise ValueError(
                f'out_channels={out_channels} must split evenly over the '
                f'{snippet_len - 1} frame differences of snippet_len='
                f'{snippet_len}'
            )
        if patch_size < 2 or patch_size % 2:
            raise ValueError(
                f'patch_size must be even (the code patch is '
                f'patch_size // 2), got {patch_size}'
            )
        if embed_channels % groups:
            raise ValueError(
                f'embed_channels={embed_channels} is not a '
                f'multiple of groups={groups}'
            )
        self.snippet_len = snippet_len
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.patch_size = patch_size
        self.code_patch_size = patch_size // 2
        self.code_channels = out_channels // (snippet_len - 1)
        self.out_init_scale = out_init_scale
        self.embed = nn.Conv3d(
            in_channels * patch_size**2, embed_channels, 1, bias=False
        )
        self.residual_units = nn.Sequential(
            _ResidualUnit3d(embed_channels, groups, with_pointwise=True),
            _ResidualUnit3d(embed_channels, groups, with_pointwise=False),
        )
        self.project = nn.Conv3d(
            embed_channels,
            self.code_channels * self.code_patch_size**2,
            1,
            bias=False,
        )

    def default_init(self) -> None:
        kaiming_init(self.embed, mode='fan_out')
        for m in self.residual_units.modules():
            if isinstance(m, nn.Conv3d):
                kaiming_init(m, mode='fan_out')
            elif isinstance(m, nn.BatchNorm3d):
                constant_init(m, 1, 0)
        self.project.reset_parameters()  # PyTorch's default init
        with torch.no_grad():
            self.project.weight.mul_(self.out_init_scale)

    def _differences(
        self, snippets: torch.Tensor, grid: Tuple[int, int]
    ) -> torch.Tensor:
        """Half-resolution frame differences, zero-padded to the patch grid:
        ``(B, L-1, C, gh * P, gw * P)``."""
        b, length, c, h, w = snippets.shape
        half = F.interpolate(
            snippets.reshape(b * length, c, h, w),
            scale_factor=0.5,
            mode='nearest',
        )
        half = half.view(b, length, c, *half.shape[-2:])
        diffs = half[:, 1:] - half[:, :-1]
        rows, cols = (g * self.patch_size for g in grid)
        if diffs.shape[-2] > rows or diffs.shape[-1] > cols:
            raise ValueError(
                f'EANLatentMotionCode: the stem output size is too small for '
                f'input frames {h}x{w} (a {grid[0]}x{grid[1]} patch grid '
                f'covers {rows}x{cols} half-resolution pixels, the frames '
                f'have {diffs.shape[-2]}x{diffs.shape[-1]})'
            )
        return F.pad(
            diffs, (0, cols - diffs.shape[-1], 0, rows - diffs.shape[-2])
        )

    def forward(
        self, snippets: torch.Tensor, out_size: Sequence[int]
    ) -> torch.Tensor:
        if snippets.dim() != 5 or snippets.shape[1:3] != (
            self.snippet_len,
            self.in_channels,
        ):
            raise ValueError(
                f'EANLatentMotionCode expects snippets (N*T, '
                f'{self.snippet_len}, {self.in_channels}, H, W), got '
                f'{tuple(snippets.shape)}'
            )
        out_h, out_w = (int(s) for s in out_size)
        gh = math.ceil(out_h / self.code_patch_size)
        gw = math.ceil(out_w / self.code_patch_size)
        diffs = self._differences(snippets, (gh, gw))
        b, t, c = diffs.shape[:3]
        p = self.patch_size
        patches = diffs.view(b, t, c, gh, p, gw, p).permute(
            0, 4, 6, 2, 1, 3, 5
        )
        x = self.embed(patches.reshape(b, p * p * c, t, gh, gw))
        x = self.project(self.residual_units(x))  # (B, q*q*k, T', gh, gw)
        q, k = self.code_patch_size, self.code_channels
        code = x.view(b, q, q, k, t, gh, gw).permute(0, 3, 4, 5, 1, 6, 2)
        code = code.reshape(b, k * t, gh * q, gw * q)
        return code[:, :, :out_h, :out_w]
