"""Local space-time correlation: SELFY's STSS and MotionSqueeze's matching.

``local_correlation(query, key)`` compares every position of frame ``t`` of
``query`` with a ``U x V`` spatial window around the same position in frames
``t + o`` of ``key`` (``o`` in ``temporal_offsets``)::

    out[n, t, i, u, v, h, w] = sum_c query[n, t, c, h, w]
        * key[n, t + o_i, c, h + (u - U//2) * dy, w + (v - V//2) * dx]

with zeros where the frame or the position is outside the clip (zero padding
in time and space). It is a plain channel sum: L2-normalise the inputs
(:func:`l2_normalize`) to get cosine similarities.

How it is computed (pure PyTorch, traceable to standard ONNX ops). Two
exact strategies; the one with fewer multiply-adds runs (:func:`_use_dense`):

* Dense (small maps, e.g. SELFY's 14 x 14 with a 9 x 9 window): per clip,
  frame pair and distinct temporal offset ``d``, one ``(H*W) x (H*W)``
  product of all query positions with all key positions (``bmm``), then one
  gather (``index_select`` with a cached index) reads the window of every
  position into the output; out-of-map and out-of-clip entries read a zero
  slot. For self-similarity only ``d = |o|`` is computed: the pair
  ``(t, t - d)`` is the transpose of ``(t - d, t)`` (3 products instead of 5
  for ``L = 5``). The backward scatters (``index_add_``) the output
  gradient into the products' shape and multiplies it back: two ``bmm`` per
  product.
* Rows (larger maps, where the window is a small part of the map):
  the frames are laid out as rows: frame ``f``, row ``h`` of the query is
  the ``W x C`` matrix at index ``f * P + h`` of a ``(F * P, W + 1, C)``
  tensor (``P = H + pad_h`` rows per frame, zero rows between frames), the
  key likewise with zero-padded ``Wp = W + 2 * pad_w`` columns (the zero rows
  between frames pad both the bottom of one and the top of the next). Then
  every ``(temporal offset, row offset)`` pair is a constant shift between
  query and key rows, and one ``bmm`` of ``(W x C) @ (C x Wp)`` per row gives
  all dot products of a query row with the shifted key row.
* The ``V`` wanted column offsets are diagonals ``w' = w + v * dx`` of each
  product; a zero query position ``W`` makes the first ``W * (Wp + 1)``
  elements of the ``(W + 1) x Wp`` product readable as ``W x (Wp + 1)``,
  with the diagonals in columns (a view, no gather).
* A custom autograd function recomputes the same products in its backward,
  so neither pass stores ``C x window`` copies of the input: memory is
  ``O(output + input)``. The rows strategy processes frames in chunks, the
  dense one clip by clip, to bound the temporary buffers.
* Without gradients the rows or the gather write into one output buffer;
  under a tracer (``torch.jit.trace``/ONNX, ``torch.compile``,
  ``torch.export``) the rows strategy stacks its rows instead.

Under autocast the correlation runs in float32.

:func:`local_correlation_reference` and :func:`stss_reference` compute the
same by the definition (one zero-padded shift-multiply-sum per window
offset, autograd backward): the reference the tests and the benchmarks
compare with, and the STSS of ``SELFYBlock(impl='reference')``.
"""

import contextlib
import functools
import warnings
from typing import Any, NamedTuple, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F

__all__ = [
    'l2_normalize',
    'local_correlation',
    'local_correlation_reference',
    'stss',
    'stss_reference',
]

# Temporary buffers of one chunk of frames stay below this many elements, or
# below a quarter of (output + input), whichever is larger.
_MIN_CHUNK_ELEMENTS = 1 << 20


def _float32_under_autocast(x: torch.Tensor):
    """``(x, context)``: under autocast on x's device, x in float32 and a
    context that switches autocast off; otherwise x and a no-op context."""
    if torch.is_autocast_enabled(x.device.type) and x.is_floating_point():
        return x.float(), torch.autocast(x.device.type, enabled=False)
    return x, contextlib.nullcontext()


def l2_normalize(
    x: torch.Tensor, dim: int = 2, eps: float = 1e-6
) -> torch.Tensor:
    """``x / sqrt(sum(x ** 2, dim) + eps)`` (eps inside the square root).

    All-zero vectors stay zero. Under autocast the result is float32.

    Args:
        x (Tensor): Any shape, e.g. ``(N, T, C, H, W)``.
        dim (int): The feature dimension. Defaults to 2.
        eps (float): Added to the squared norm. Defaults to 1e-6.
    """
    x, context = _float32_under_autocast(x)
    with context:
        return x / torch.sqrt((x * x).sum(dim, keepdim=True) + eps)


class _Geometry(NamedTuple):
    """Sizes of one correlation problem (see the module docstring)."""

    n: int
    t: int
    c: int
    h: int
    w: int
    offsets: Tuple[int, ...]
    u: int
    v: int
    dy: int
    dx: int

    @property
    def pad_h(self):
        return (self.u // 2) * self.dy

    @property
    def pad_w(self):
        return (self.v // 2) * self.dx

    @property
    def pitch(self):
        """Rows per frame in the row layouts: ``H`` plus the zero rows that
        pad it from the next frame (shared: bottom of one, top of next)."""
        return self.h + self.pad_h

    @property
    def extra_frames(self):
        """Zero frames after the key frames: room for the last window."""
        return -(-2 * self.pad_h // self.pitch)

    @property
    def wp(self):
        return self.w + 2 * self.pad_w


def _static_shape(x: torch.Tensor):
    """``x.shape`` as ints; ``torch.jit.trace`` sees sizes as tensors, and
    the loops here specialise on them anyway."""
    if not torch.jit.is_tracing():
        return tuple(x.shape)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        return tuple(int(s) for s in x.shape)


def _check_inputs(
    query: torch.Tensor,
    key: Optional[torch.Tensor],
    temporal_offsets: Sequence[int],
    window: Sequence[int],
    dilation: Sequence[int],
) -> _Geometry:
    if query.dim() != 5:
        raise ValueError(
            'local_correlation: expected query of shape '
            f'(N, T, C, H, W), got {tuple(query.shape)}'
        )
    if key is not None and key.shape != query.shape:
        raise ValueError(
            'local_correlation: key shape must equal query shape '
            f'{tuple(query.shape)}, got {tuple(key.shape)}'
        )
    if key is not None and key.dtype != query.dtype:
        raise ValueError(
            f'local_correlation: key dtype {key.dtype} != query '
            f'dtype {query.dtype}'
        )
    if len(window) != 2 or any(int(s) < 1 or int(s) % 2 != 1 for s in window):
        raise ValueError(
            'local_correlation: window must be two odd sizes '
            f'(U, V) >= 1, got {tuple(window)}'
        )
    if len(dilation) != 2 or any(int(d) < 1 for d in dilation):
        raise ValueError(
            'local_correlation: dilation must be two integers '
            f'>= 1, got {tuple(dilation)}'
        )
    offsets = tuple(int(o) for o in temporal_offsets)
    if len(offsets) == 0:
        raise ValueError('local_correlation: temporal_offsets is empty')
    n, t, c, h, w = _static_shape(query)
    return _Geometry(
        n,
        t,
        c,
        h,
        w,
        offsets,
        int(window[0]),
        int(window[1]),
        int(dilation[0]),
        int(dilation[1]),
    )


def _chunks(g: _Geometry):
    """``(first, count)`` ranges of flattened frames, each either whole
    clips or part of one clip, whose buffers stay bounded."""
    total = g.n * g.t
    out_and_in = total * g.h * g.w * (len(g.offsets) * g.u * g.v + 2 * g.c)
    budget = max(_MIN_CHUNK_ELEMENTS, out_and_in // 4)
    # query and key rows, their gradients, one (W + 1) x (Wp + 1) product
    per_frame = g.pitch * (
        2 * (g.w + 1) * g.c + 2 * g.wp * g.c + 2 * (g.w + 1) * (g.wp + 1)
    )
    frames = max(1, budget // per_frame)
    if frames >= g.t:
        step = (frames // g.t) * g.t
        return [
            (first, min(step, total - first))
            for first in range(0, total, step)
        ]
    return [
        (clip * g.t + t, min(frames, g.t - t))
        for clip in range(g.n)
        for t in range(0, g.t, frames)
    ]


def _zero_invalid_frames(
    a: torch.Tensor, first: int, offset: int, g: _Geometry
):
    """Zero the frames of a chunk (leading dim of ``a``) whose frame
    ``t + offset`` is outside the clip, in place."""
    count = a.shape[0]
    if first % g.t == 0 and count % g.t == 0:
        clips = a.view(count // g.t, g.t, *a.shape[1:])
        if offset > 0:
            clips[:, max(g.t - offset, 0) :] = 0
        elif offset < 0:
            clips[:, : min(-offset, g.t)] = 0
        return
    t0 = first % g.t
    lo = min(max(0, -offset - t0), count)
    hi = max(min(count, g.t - offset - t0), lo)
    a[:lo] = 0
    a[hi:] = 0


def _valid_frames(
    first: int, count: int, offset: int, g: _Geometry, like: torch.Tensor
):
    """``(count, 1, 1, 1, 1)`` mask (dtype of ``like``): 1 where frame
    ``t + offset`` of flattened frame ``first + j`` is inside its clip."""
    t = torch.arange(first, first + count, device=like.device) % g.t + offset
    return ((t >= 0) & (t < g.t)).to(like.dtype).view(count, 1, 1, 1, 1)


def _query_rows(frames: torch.Tensor, g: _Geometry):
    """``(F, C, H, W)`` -> ``(F * P, W + 1, C)`` (``P`` = pitch): row ``h``
    of frame ``f`` at ``f * P + h``, zero rows ``H..P-1``, and a zero
    position ``W`` (which makes each ``(W + 1) x Wp`` product readable as
    ``W x (Wp + 1)``)."""
    rows = F.pad(frames.permute(0, 2, 3, 1), (0, 0, 0, 1, 0, g.pad_h))
    return rows.reshape(-1, g.w + 1, g.c)


def _key_rows(key_flat: torch.Tensor, first: int, last: int, g: _Geometry):
    """Key frames ``first..last-1`` (zeros outside the tensor), each with
    ``pad_h`` zero rows on top and ``pad_w`` zero columns on both sides,
    then ``extra_frames`` zero frames: ``((F + extra) * P, Wp, C)``. Row
    ``h`` (``-pad_h <= h < H + pad_h``) of frame ``first + j`` is at
    ``j * P + pad_h + h`` (rows below a frame are the next one's top)."""
    total = key_flat.shape[0]
    frames = key_flat[max(first, 0) : min(last, total)].permute(0, 2, 3, 1)
    rows = F.pad(
        frames,
        (
            0,
            0,
            g.pad_w,
            g.pad_w,
            g.pad_h,
            0,
            max(0, -first),
            max(0, last - total) + g.extra_frames,
        ),
    )
    return rows.reshape(-1, g.wp, g.c)


def _diagonals(prod: torch.Tensor, g: _Geometry):
    """``(R, W + 1, Wp)`` -> ``(R, W, V)`` view with
    ``out[r, w, j] = prod[r, w, w + j * dx]``: the first ``W * (Wp + 1)``
    elements of a flattened product, read as ``W x (Wp + 1)``, hold the
    diagonals in columns."""
    r = prod.shape[0]
    flat = prod.reshape(r, (g.w + 1) * g.wp)[:, : g.w * (g.wp + 1)]
    return flat.view(r, g.w, g.wp + 1)[:, :, : (g.v - 1) * g.dx + 1 : g.dx]


def _key_shift(offset: int, row: int, g: _Geometry):
    """Key row of query row 0 for temporal offset ``offset`` and window row
    ``row`` (``0..U-1``)."""
    return (offset - min(g.offsets)) * g.pitch + row * g.dy


def _forward(
    query: torch.Tensor,
    key: torch.Tensor,
    g: _Geometry,
    functional: bool = False,
):
    """The correlation without a custom backward. Returns the output with
    shape ``(N, T, L, U, V, H, W)`` laid out as ``(N, T, H, W, L, U, V)``.

    By default the rows are written into one output buffer; ``functional``
    stacks them instead (2x the output's memory), which tracers (ONNX,
    ``torch.export``) follow."""
    total = g.n * g.t
    q_flat = query.reshape(total, g.c, g.h, g.w)
    k_flat = key.reshape(total, g.c, g.h, g.w)
    out: Optional[torch.Tensor] = (
        None
        if functional
        else query.new_empty(total, g.h, g.w, len(g.offsets), g.u, g.v)
    )
    chunks = []
    for first, count in _chunks(g):
        q_rows = _query_rows(q_flat[first : first + count], g)
        k_rows = _key_rows(
            k_flat, first + min(g.offsets), first + count + max(g.offsets), g
        )
        per_offset = []
        for i, offset in enumerate(g.offsets):
            rows = []
            for u in range(g.u):
                shift = _key_shift(offset, u, g)
                k_slice = k_rows[shift : shift + q_rows.shape[0]]
                band = _diagonals(
                    torch.bmm(q_rows, k_slice.transpose(1, 2)), g
                ).view(count, g.pitch, g.w, g.v)[:, : g.h]
                if out is None:  # functional
                    rows.append(band)
                else:
                    out[first : first + count, :, :, i, u] = band
            if out is None:
                per_offset.append(
                    torch.stack(rows, 3)
                    * _valid_frames(first, count, offset, g, query)
                )
            else:
                _zero_invalid_frames(
                    out[first : first + count, ..., i, :, :], first, offset, g
                )
        if functional:
            chunks.append(torch.stack(per_offset, 3))
    if out is None:
        out = torch.cat(chunks, 0)
    return out.view(g.n, g.t, g.h, g.w, len(g.offsets), g.u, g.v).permute(
        0, 1, 4, 5, 6, 2, 3
    )


def _backward(
    grad_out: torch.Tensor,
    query: torch.Tensor,
    key: Optional[torch.Tensor],
    g: _Geometry,
    need_query: bool,
    need_key: bool,
) -> Tuple[Optional[torch.Tensor], Optional[torch.Tensor]]:
    """Gradients w.r.t. query and key (``key`` None: self-correlation, the
    two gradients summed into the first)."""
    total = g.n * g.t
    self_corr = key is None
    key = query if key is None else key
    q_flat = query.reshape(total, g.c, g.h, g.w)
    k_flat = key.reshape(total, g.c, g.h, g.w)
    grad = grad_out.reshape(total, len(g.offsets), g.u, g.v, g.h, g.w)
    dtype = torch.promote_types(query.dtype, grad.dtype)
    grad_q = (
        torch.zeros(total, g.c, g.h, g.w, dtype=dtype, device=query.device)
        if need_query
        else None
    )
    grad_k = None
    if need_key:
        grad_k = (
            grad_q
            if self_corr
            else torch.zeros(
                total, g.c, g.h, g.w, dtype=dtype, device=query.device
            )
        )
    extent = (g.v - 1) * g.dx + 1
    for first, count in _chunks(g):
        q_rows = _query_rows(q_flat[first : first + count], g).to(dtype)
        q_rows = q_rows[:, : g.w]
        k_first = first + min(g.offsets)
        k_last = first + count + max(g.offsets)
        k_rows = _key_rows(k_flat, k_first, k_last, g).to(dtype)
        gq_rows = torch.zeros_like(q_rows) if need_query else None
        gk_rows = torch.zeros_like(k_rows) if need_key else None
        for i, offset in enumerate(g.offsets):
            for u in range(g.u):
                # gradient of the (W x Wp) product: the band, zeros elsewhere
                buf = grad.new_zeros(
                    count, g.pitch, g.w, g.wp + 1, dtype=dtype
                )
                buf[:, : g.h, :, : extent : g.dx] = grad[
                    first : first + count, i, u
                ].permute(0, 2, 3, 1)
                _zero_invalid_frames(buf, first, offset, g)
                prod = buf.view(-1, g.w * (g.wp + 1))[:, : g.w * g.wp].view(
                    -1, g.w, g.wp
                )
                shift = _key_shift(offset, u, g)
                rows = slice(shift, shift + prod.shape[0])
                if gq_rows is not None:
                    gq_rows.baddbmm_(prod, k_rows[rows])
                if gk_rows is not None:
                    gk_rows[rows].baddbmm_(prod.transpose(1, 2), q_rows)
        if grad_q is not None and gq_rows is not None:
            grad_q[first : first + count] += gq_rows.view(
                count, g.pitch, g.w, g.c
            )[:, : g.h].permute(0, 3, 1, 2)
        if grad_k is not None and gk_rows is not None:
            lo, hi = max(k_first, 0), min(k_last, total)
            gk = gk_rows.view(-1, g.pitch, g.wp, g.c)[
                lo - k_first : hi - k_first,
                g.pad_h : g.pad_h + g.h,
                g.pad_w : g.pad_w + g.w,
            ]
            grad_k[lo:hi] += gk.permute(0, 3, 1, 2)
    shape = (g.n, g.t, g.c, g.h, g.w)
    grad_q = None if grad_q is None else grad_q.view(shape).to(query.dtype)
    if self_corr or grad_k is None:
        return grad_q, None
    return grad_q, grad_k.view(shape).to(key.dtype)


def _distinct_offsets(g: _Geometry, self_corr: bool):
    """Temporal offsets ``d`` whose products the dense strategy computes:
    ``|o|`` for self-similarity (``(t, t - d)`` is a transpose of
    ``(t - d, t)``), every offset otherwise."""
    if self_corr:
        return tuple(sorted({abs(o) for o in g.offsets}))
    return tuple(sorted(set(g.offsets)))


def _use_dense(g: _Geometry, self_corr: bool):
    """Dense products when they take fewer multiply-adds per frame than the
    row products (small maps; SELFY's 14 x 14 with a 9 x 9 window: 115k vs
    267k per channel)."""
    dense = len(_distinct_offsets(g, self_corr)) * (g.h * g.w) ** 2
    rows = len(g.offsets) * g.u * g.pitch * (g.w + 1) * g.wp
    return dense <= rows


@functools.lru_cache(maxsize=16)
def _dense_index(g: _Geometry, self_corr: bool, device: torch.device):
    """Where each output element of one clip, in position-major order
    ``(T, H, W, L, U, V)``, is in the clip's products
    ``(D, T, H*W, H*W)`` (flattened, then one zero slot at the end);
    ``D = len(_distinct_offsets)``. Cached per geometry (call it with
    ``n = c = 0``: batch size and channels do not matter)."""
    offsets = _distinct_offsets(g, self_corr)
    t, h, w = g.t, g.h, g.w
    hw = h * w
    size = len(offsets) * t * hw * hw

    def axis(n: int, dim: int) -> torch.Tensor:
        shape = [1] * 6
        shape[dim] = n
        return torch.arange(n).view(shape)

    frame, row, col = axis(t, 0), axis(h, 1), axis(w, 2)
    offset = torch.tensor(g.offsets).view(1, 1, 1, -1, 1, 1)
    key_row = row + (axis(g.u, 4) - g.u // 2) * g.dy
    key_col = col + (axis(g.v, 5) - g.v // 2) * g.dx
    key_frame = frame + offset
    query_pos, key_pos = row * w + col, key_row * w + key_col
    slot = torch.tensor(
        [offsets.index(abs(o) if self_corr else o) for o in g.offsets]
    ).view(1, 1, 1, -1, 1, 1)
    direct = ((slot * t + frame) * hw + query_pos) * hw + key_pos
    if self_corr:  # o < 0: row key_pos, column query_pos of (t + o, t)
        transposed = ((slot * t + key_frame) * hw + key_pos) * hw + query_pos
        direct = torch.where(offset >= 0, direct, transposed)
    valid = (
        (key_row >= 0)
        & (key_row < h)
        & (key_col >= 0)
        & (key_col < w)
        & (key_frame >= 0)
        & (key_frame < t)
    )
    index = torch.where(valid, direct, torch.full_like(direct, size))
    dtype = torch.int32 if size < 2**31 else torch.int64
    return index.reshape(-1).to(device=device, dtype=dtype)


def _dense_products(
    buf: torch.Tensor,
    query: torch.Tensor,
    key: torch.Tensor,
    clip: int,
    offsets: Sequence[int],
    g: _Geometry,
) -> None:
    """Fill ``buf`` ``(D * T * H*W * H*W + 1)`` with clip ``clip``'s
    products ``q_t^T k_{t+d}`` (``(N, T, C, H*W)`` inputs) and a zero
    slot."""
    products = buf[:-1].view(len(offsets), g.t, g.h * g.w, g.h * g.w)
    for i, d in enumerate(offsets):
        first, last = max(0, -d), min(g.t, g.t - d)
        if first < last:
            torch.bmm(
                query[clip, first:last].transpose(1, 2),
                key[clip, first + d : last + d],
                out=products[i, first:last],
            )
    buf[-1] = 0


def _dense_forward(
    query: torch.Tensor, key: Optional[torch.Tensor], g: _Geometry
):
    """The dense strategy (``key`` None: self-similarity). Returns the
    output ``(N, T, L, U, V, H, W)`` laid out as ``(N, T, H, W, L, U, V)``."""
    self_corr = key is None
    offsets = _distinct_offsets(g, self_corr)
    index = _dense_index(g._replace(n=0, c=0), self_corr, query.device)
    hw = g.h * g.w
    q = query.reshape(g.n, g.t, g.c, hw)
    k = q if key is None else key.reshape(g.n, g.t, g.c, hw)
    out = query.new_empty(g.n, index.numel())
    buf = query.new_empty(len(offsets) * g.t * hw * hw + 1)
    for clip in range(g.n):
        _dense_products(buf, q, k, clip, offsets, g)
        torch.index_select(buf, 0, index, out=out[clip])
    return out.view(g.n, g.t, g.h, g.w, len(g.offsets), g.u, g.v).permute(
        0, 1, 4, 5, 6, 2, 3
    )


def _dense_backward(
    grad_out: torch.Tensor,
    query: torch.Tensor,
    key: Optional[torch.Tensor],
    g: _Geometry,
    need_query: bool,
    need_key: bool,
) -> Tuple[Optional[torch.Tensor], Optional[torch.Tensor]]:
    """Gradients of :func:`_dense_forward` (``key`` None: self-similarity,
    one gradient). Per clip: the output gradient scattered into the
    products' shape ``G``, then ``dq_t += k_{t+d} G^T``,
    ``dk_{t+d} += q_t G``."""
    self_corr = key is None
    offsets = _distinct_offsets(g, self_corr)
    index = _dense_index(g._replace(n=0, c=0), self_corr, query.device)
    hw = g.h * g.w
    dtype = torch.promote_types(query.dtype, grad_out.dtype)
    q = query.reshape(g.n, g.t, g.c, hw).to(dtype)
    k = q if key is None else key.reshape(g.n, g.t, g.c, hw).to(dtype)
    grad_q = q.new_zeros(q.shape) if need_query else None
    grad_k = (
        grad_q if self_corr else (k.new_zeros(k.shape) if need_key else None)
    )
    buf = q.new_empty(len(offsets) * g.t * hw * hw + 1)
    products = buf[:-1].view(len(offsets), g.t, hw, hw)
    for clip in range(g.n):
        # (T, L, U, V, H, W) -> position-major, a view if already so
        grad = grad_out[clip].permute(0, 4, 5, 1, 2, 3).reshape(-1)
        buf.zero_().index_add_(0, index, grad.to(dtype))
        for i, d in enumerate(offsets):
            first, last = max(0, -d), min(g.t, g.t - d)
            if first >= last:
                continue
            grads = products[i, first:last]
            if grad_q is not None:
                grad_q[clip, first:last].baddbmm_(
                    k[clip, first + d : last + d], grads.transpose(1, 2)
                )
            if grad_k is not None:
                grad_k[clip, first + d : last + d].baddbmm_(
                    q[clip, first:last], grads
                )
    shape = (g.n, g.t, g.c, g.h, g.w)
    grad_q = None if grad_q is None else grad_q.view(shape).to(query.dtype)
    if key is None or grad_k is None:
        return grad_q, None
    return grad_q, grad_k.view(shape).to(key.dtype)


class _LocalCorrelation(torch.autograd.Function):
    """Streaming forward and backward (see the module docstring)."""

    @staticmethod
    def forward(
        ctx: Any,
        query: torch.Tensor,
        key: Optional[torch.Tensor],
        g: _Geometry,
        dense: bool,
    ) -> torch.Tensor:
        ctx.g = g
        ctx.dense = dense
        ctx.self_corr = key is None
        ctx.save_for_backward(query, *(() if key is None else (key,)))
        if dense:
            return _dense_forward(query, key, g)
        return _forward(query, query if key is None else key, g)

    @staticmethod
    def backward(
        ctx: Any, grad_out: torch.Tensor
    ) -> Tuple[Optional[torch.Tensor], Optional[torch.Tensor], None, None]:
        query, *rest = ctx.saved_tensors
        key = rest[0] if rest else None
        need_q, need_k = ctx.needs_input_grad[:2]
        if ctx.self_corr:
            need_q = need_k = need_q
        backward = _dense_backward if ctx.dense else _backward
        with torch.autocast(grad_out.device.type, enabled=False):
            grad_q, grad_k = backward(
                grad_out, query, key, ctx.g, need_q, need_k
            )
        return grad_q, grad_k, None, None


def local_correlation(
    query: torch.Tensor,
    key: Optional[torch.Tensor] = None,
    temporal_offsets: Sequence[int] = (-2, -1, 0, 1, 2),
    window: Sequence[int] = (9, 9),
    dilation: Sequence[int] = (1, 1),
) -> torch.Tensor:
    """Dot products of each query position with a local window of key
    positions in other frames (definition in the module docstring).

    Args:
        query (Tensor): ``(N, T, C, H, W)``.
        key (Tensor, optional): Same shape and dtype; defaults to ``query``
            (self-similarity).
        temporal_offsets (Sequence[int]): ``o_i``: index ``i`` of the output
            compares frame ``t`` with frame ``t + o_i``. Defaults to -2..2.
        window (Sequence[int]): Odd ``(U, V)``; spatial offsets
            ``(u - U//2) * dy`` rows and ``(v - V//2) * dx`` columns.
        dilation (Sequence[int]): ``(dy, dx)``. Defaults to ``(1, 1)``.

    Returns:
        Tensor: ``(N, T, L, U, V, H, W)`` with ``L = len(temporal_offsets)``,
        stored position-major (``(N, T, H, W, L, U, V)`` in memory, like a
        channels-last tensor); ``.reshape`` or ``.contiguous()`` copy it
        where another layout is needed. Same dtype as the inputs, float32
        under autocast.
    """
    g = _check_inputs(query, key, temporal_offsets, window, dilation)
    tracing = torch.jit.is_tracing() or torch.compiler.is_compiling()
    query, context = _float32_under_autocast(query)
    if key is not None:
        key = key.to(query.dtype)
    with context:
        if tracing:
            return _forward(
                query, query if key is None else key, g, functional=True
            )
        dense = _use_dense(g, key is None)
        if torch.is_grad_enabled() and (
            query.requires_grad or key is not None and key.requires_grad
        ):
            return _LocalCorrelation.apply(query, key, g, dense)
        if dense:
            return _dense_forward(query, key, g)
        return _forward(query, query if key is None else key, g)


def stss(
    x: torch.Tensor,
    window: Sequence[int] = (5, 9, 9),
    dilation: Sequence[int] = (1, 1),
) -> torch.Tensor:
    """Self-similarity of ``x`` over an ``(L, U, V)`` space-time window.

    ``local_correlation(x, None, range(-(L//2), L//2 + 1), (U, V),
    dilation)``; ``L`` odd.

    Args:
        x (Tensor): ``(N, T, C, H, W)``, usually L2-normalised.
        window (Sequence[int]): Odd ``(L, U, V)``. Defaults to ``(5, 9, 9)``.
        dilation (Sequence[int]): Spatial ``(dy, dx)``.

    Returns:
        Tensor: ``(N, T, L, U, V, H, W)``, see :func:`local_correlation`.
    """
    if len(window) != 3 or any(int(s) < 1 or int(s) % 2 != 1 for s in window):
        raise ValueError(
            'stss: window must be three odd sizes (L, U, V) '
            f'>= 1, got {tuple(window)}'
        )
    half = int(window[0]) // 2
    return local_correlation(
        x, None, tuple(range(-half, half + 1)), tuple(window[1:]), dilation
    )


def local_correlation_reference(
    query: torch.Tensor,
    key: Optional[torch.Tensor] = None,
    temporal_offsets: Sequence[int] = (-2, -1, 0, 1, 2),
    window: Sequence[int] = (9, 9),
    dilation: Sequence[int] = (1, 1),
) -> torch.Tensor:
    """:func:`local_correlation` by its definition: per offset
    ``(o, u, v)`` the channel sum of ``query`` times ``key`` shifted by
    ``(o, (u - U//2) * dy, (v - V//2) * dx)`` in zero-padded ``key``. Same
    arguments, output ``(N, T, L, U, V, H, W)`` (contiguous), float32 under
    autocast. Slow (``L*U*V`` products of the input's size); autograd
    keeps no copies (the shifts are views)."""
    g = _check_inputs(query, key, temporal_offsets, window, dilation)
    query, context = _float32_under_autocast(query)
    key = query if key is None else key.to(query.dtype)
    pad_t = max(abs(o) for o in g.offsets)
    with context:
        padded = F.pad(
            key, (g.pad_w, g.pad_w, g.pad_h, g.pad_h, 0, 0, pad_t, pad_t)
        )
        out = []
        for o in g.offsets:
            for u in range(g.u):
                for v in range(g.v):
                    top, left = u * g.dy, v * g.dx
                    shifted = padded[
                        :,
                        pad_t + o : pad_t + o + g.t,
                        :,
                        top : top + g.h,
                        left : left + g.w,
                    ]
                    out.append((query * shifted).sum(2))
    return torch.stack(out, 2).view(
        g.n, g.t, len(g.offsets), g.u, g.v, g.h, g.w
    )


def stss_reference(
    x: torch.Tensor,
    window: Sequence[int] = (5, 9, 9),
    dilation: Sequence[int] = (1, 1),
) -> torch.Tensor:
    """:func:`stss` by the definition (:func:`local_correlation_reference`
    with offsets ``-L//2..L//2``)."""
    if len(window) != 3 or any(int(s) < 1 or int(s) % 2 != 1 for s in window):
        raise ValueError(
            'stss_reference: window must be three odd sizes '
            f'(L, U, V) >= 1, got {tuple(window)}'
        )
    half = int(window[0]) // 2
    return local_correlation_reference(
        x, None, tuple(range(-half, half + 1)), tuple(window[1:]), dilation
    )
