"""Test-only references written from the spec (SELFY.md), not from the
authors' code:

* :func:`plain_local_correlation`: the correlation by its definition, one
  zero-padded shift-multiply-sum per window offset.
* :class:`OfficialSELFYNet`: a plain ``nn.Module`` with the official
  network's parameter names (``base_model.*``, ``new_fc``), its layer types
  (Conv3d extraction, ConvTranspose3d upsampling) and its forward, used to
  check the converter and our fast SELFY block.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


def plain_local_correlation(query, key, temporal_offsets, window, dilation):
    """``out[n,t,i,u,v,h,w] = sum_c q[n,t,c,h,w] *
    k[n, t+o_i, c, h+(u-U//2)*dy, w+(v-V//2)*dx]``, zeros outside."""
    n, t, c, h, w = query.shape
    u_size, v_size = window
    dy, dx = dilation
    pad_t = max(abs(o) for o in temporal_offsets)
    pad_h, pad_w = (u_size // 2) * dy, (v_size // 2) * dx
    padded = F.pad(key, (pad_w, pad_w, pad_h, pad_h, 0, 0, pad_t, pad_t))
    out = []
    for o in temporal_offsets:
        for u in range(u_size):
            for v in range(v_size):
                ky = pad_h + (u - u_size // 2) * dy
                kx = pad_w + (v - v_size // 2) * dx
                shifted = padded[:, pad_t + o:pad_t + o + t, :, ky:ky + h,
                                 kx:kx + w]
                out.append((query * shifted).sum(2))
    return torch.stack(out, 2).view(n, t, len(temporal_offsets), u_size,
                                    v_size, h, w)


def plain_stss(x, window=(5, 9, 9)):
    half = window[0] // 2
    return plain_local_correlation(x, x, range(-half, half + 1), window[1:],
                                   (1, 1))
