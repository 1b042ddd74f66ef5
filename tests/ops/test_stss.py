import importlib
import io

import pytest
import torch

from selfy_mmaction.ops.stss import (
    l2_normalize,
    local_correlation,
    local_correlation_reference,
    stss,
    stss_reference,
)

# the module (``selfy_mmaction.ops.stss`` is also the function's name)
stss_module = importlib.import_module('selfy_mmaction.ops.stss')


@pytest.fixture(autouse=True)
def _one_thread():
    """Small tensors: extra OpenMP threads only add overhead (and stall on a
    loaded machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# (N, T, C, H, W, temporal offsets, window, dilation)
CASES = [
    (2, 3, 4, 5, 6, (-2, -1, 0, 1, 2), (3, 5), (1, 1)),
    (1, 1, 3, 3, 4, (0, 1), (9, 7), (1, 1)),  # T=1, window > map
    (2, 4, 2, 7, 5, (1,), (3, 3), (2, 2)),  # odd H/W, dilation 2
    (1, 3, 2, 4, 3, (-1, 2), (5, 1), (2, 1)),  # asymmetric offsets
    (2, 2, 3, 3, 3, (-3, 0, 3), (11, 11), (2, 1)),  # |offset| >= T
]


@pytest.fixture(params=['dense', 'rows', 'rows-small-chunks'])
def strategy(request, monkeypatch):
    """Each strategy whatever the sizes; the row products also with a tiny
    buffer budget (one frame or clip per chunk)."""
    monkeypatch.setattr(
        stss_module,
        '_use_dense',
        lambda g, self_corr: request.param == 'dense',
    )
    if request.param == 'rows-small-chunks':
        monkeypatch.setattr(stss_module, '_MIN_CHUNK_ELEMENTS', 1)
    return request.param


@pytest.mark.parametrize('case', CASES)
@pytest.mark.parametrize('self_similarity', [False, True])
def test_matches_plain_reference(case, self_similarity, strategy):
    n, t, c, h, w, offsets, window, dilation = case
    query = torch.randn(n, t, c, h, w, dtype=torch.float64)
    key = None if self_similarity else torch.randn_like(query)
    out = local_correlation(query, key, offsets, window, dilation)
    expected = local_correlation_reference(
        query, query if key is None else key, offsets, window, dilation
    )
    assert out.shape == (n, t, len(offsets), *window, h, w)
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)


GRADCHECK_CASES = [
    (1, 3, 2, 3, 4, (-1, 0, 2), (3, 5), (1, 1)),
    (2, 2, 2, 3, 2, (1,), (3, 3), (2, 2)),
]


@pytest.mark.parametrize('case', GRADCHECK_CASES)
def test_gradcheck(case, strategy):
    n, t, c, h, w, offsets, window, dilation = case
    query = torch.randn(n, t, c, h, w, dtype=torch.float64, requires_grad=True)
    key = torch.randn_like(query, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda q, k: local_correlation(q, k, offsets, window, dilation),
        (query, key),
        fast_mode=True,
    )
    assert torch.autograd.gradcheck(
        lambda q: local_correlation(q, None, offsets, window, dilation),
        (query,),
        fast_mode=True,
    )


@pytest.mark.parametrize('case', CASES)
def test_gradients_match_reference(case, strategy):
    """Both inputs' gradients (and the one of a self-similarity) equal
    autograd through the plain reference, float64."""
    n, t, c, h, w, offsets, window, dilation = case
    query = torch.randn(n, t, c, h, w, dtype=torch.float64)
    key = torch.randn_like(query)
    weight = torch.randn(
        n, t, len(offsets), *window, h, w, dtype=torch.float64
    )
    for self_similarity in (False, True):
        ours = [query.clone().requires_grad_(), key.clone().requires_grad_()]
        plain = [query.clone().requires_grad_(), key.clone().requires_grad_()]
        out = local_correlation(
            ours[0],
            None if self_similarity else ours[1],
            offsets,
            window,
            dilation,
        )
        expected = local_correlation_reference(
            plain[0],
            plain[0] if self_similarity else plain[1],
            offsets,
            window,
            dilation,
        )
        (out * weight).sum().backward()
        (expected * weight).sum().backward()
        for a, b in zip(ours, plain):
            if b.grad is None:
                assert a.grad is None
            else:
                torch.testing.assert_close(a.grad, b.grad, rtol=0, atol=1e-12)


def test_strategy_choice():
    """Dense products for SELFY's 14 x 14 maps (fewer multiply-adds), row
    products once the window is a small part of the map."""

    def geometry(h, w, offsets=(-2, -1, 0, 1, 2), window=(9, 9)):
        return stss_module._Geometry(8, 8, 128, h, w, offsets, *window, 1, 1)

    assert stss_module._use_dense(geometry(14, 14), self_corr=True)
    assert stss_module._use_dense(geometry(14, 14), self_corr=False)
    assert not stss_module._use_dense(geometry(56, 56), self_corr=True)
    assert not stss_module._use_dense(
        geometry(28, 28, (1,), (5, 5)), self_corr=False
    )


def test_gradients_match_reference_at_selfy_size(strategy):
    x = torch.randn(2, 3, 8, 7, 9, dtype=torch.float64)
    weight = torch.randn(2, 3, 5, 9, 9, 7, 9, dtype=torch.float64)
    grads = []
    for fn in (stss, stss_reference):
        leaf = x.clone().requires_grad_()
        (fn(leaf, (5, 9, 9)) * weight).sum().backward()
        grads.append(leaf.grad)
    torch.testing.assert_close(grads[0], grads[1], rtol=0, atol=1e-11)


def test_gradient_for_key_only(strategy):
    query = torch.randn(1, 3, 4, 5, 5, dtype=torch.float64)
    key = torch.randn_like(query, requires_grad=True)
    local_correlation(query, key).sum().backward()
    assert query.grad is None
    expected = torch.autograd.grad(
        local_correlation_reference(
            query, key, (-2, -1, 0, 1, 2), (9, 9), (1, 1)
        ).sum(),
        key,
    )[0]
    torch.testing.assert_close(key.grad, expected, rtol=0, atol=1e-12)


def test_backward_saves_only_the_inputs(strategy):
    """Memory stays O(input + output): the graph keeps the inputs, no
    C x window copies."""
    query = torch.randn(2, 4, 8, 6, 6, requires_grad=True)
    key = torch.randn(2, 4, 8, 6, 6, requires_grad=True)
    out = local_correlation(query, key)
    saved = out.grad_fn.saved_tensors
    assert [s.data_ptr() for s in saved] == [query.data_ptr(), key.data_ptr()]
    out = stss(query)
    assert [s.data_ptr() for s in out.grad_fn.saved_tensors] == [
        query.data_ptr()
    ]


@pytest.mark.parametrize('shift', [(2, -1), (-3, 0), (0, 4)])
@pytest.mark.parametrize('fn', [stss, stss_reference])
def test_translated_pattern_peaks_at_its_displacement(shift, fn, strategy):
    """Frame t+1 shows frame t's content moved by (dy, dx): the similarity
    of frame t at temporal offset +1 peaks at window offset (dy, dx), that
    of frame t+1 at offset -1 at (-dy, -dx); the fast op and the
    definition."""
    dy, dx = shift
    frame = torch.randn(16, 15, 17)
    moved = torch.roll(frame, shifts=(dy, dx), dims=(1, 2))
    x = l2_normalize(torch.stack([frame, moved])[None])  # (1, 2, C, H, W)
    out = fn(x, (3, 9, 9))  # offsets -1, 0, +1
    h, w = 7, 8
    forward = out[0, 0, 2, :, :, h, w]
    backward = out[0, 1, 0, :, :, h + dy, w + dx]
    assert divmod(int(forward.argmax()), 9) == (4 + dy, 4 + dx)
    assert divmod(int(backward.argmax()), 9) == (4 - dy, 4 - dx)
    assert forward.max() == pytest.approx(1.0, abs=1e-5)
    # no frame before 0 and after 1: zeros
    assert out[0, 0, 0].abs().max() == 0 and out[0, 1, 2].abs().max() == 0


def test_stss_is_local_correlation_with_centred_offsets():
    x = torch.randn(2, 5, 6, 7, 6, dtype=torch.float64)
    torch.testing.assert_close(
        stss(x, (3, 5, 3), dilation=(2, 1)),
        local_correlation(x, None, (-1, 0, 1), (5, 3), (2, 1)),
    )


def test_output_is_position_major():
    out = stss(torch.randn(1, 2, 3, 4, 5), (3, 3, 3))
    assert out.shape == (1, 2, 3, 3, 3, 4, 5)
    assert out.permute(0, 1, 5, 6, 2, 3, 4).is_contiguous()


def test_l2_normalize():
    x = torch.randn(2, 3, 5, 4, 4, dtype=torch.float64)
    x[0, 0, :, 1, 1] = 0
    y = l2_normalize(x)
    expected = x / torch.sqrt((x**2).sum(2, keepdim=True) + 1e-6)
    torch.testing.assert_close(y, expected, rtol=1e-14, atol=0)
    assert y[0, 0, :, 1, 1].abs().max() == 0
    torch.testing.assert_close(
        l2_normalize(x, dim=0, eps=0.5),
        x / torch.sqrt((x**2).sum(0, keepdim=True) + 0.5),
    )


def test_bfloat16_autocast_computes_in_float32(strategy):
    x = torch.randn(1, 3, 16, 6, 7)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        low = x.to(torch.bfloat16)
        normed = l2_normalize(low)
        out = stss(normed, (3, 5, 5))
    assert normed.dtype == torch.float32 and out.dtype == torch.float32
    expected = stss(l2_normalize(low.float()), (3, 5, 5))
    torch.testing.assert_close(out, expected, rtol=0, atol=0)


@pytest.mark.parametrize('dtype', [torch.float32, torch.bfloat16])
def test_low_precision_inputs(dtype, strategy):
    x = l2_normalize(torch.randn(2, 3, 32, 5, 6, dtype=torch.float64))
    out = stss(x.to(dtype).requires_grad_(), (3, 3, 5))
    assert out.dtype == dtype
    tol = 1e-5 if dtype == torch.float32 else 2e-2
    torch.testing.assert_close(
        out.double(), stss_reference(x, (3, 3, 5)), rtol=0, atol=tol
    )
    out.sum().backward()


def test_channels_last_and_strided_inputs(strategy):
    frames = torch.randn(6, 8, 5, 7).to(memory_format=torch.channels_last)
    x = frames.view(2, 3, 8, 5, 7)
    expected = stss(x.contiguous(), (3, 5, 5))
    torch.testing.assert_close(stss(x, (3, 5, 5)), expected, rtol=0, atol=0)
    # a strided query and key (MotionSqueeze: frames t against t+1)
    torch.testing.assert_close(
        local_correlation(x[:, :-1], x[:, 1:], (0,), (5, 5)),
        expected[:, :-1, 2:3],
    )


def test_traced_and_exported_forward_matches_eager():
    ort = pytest.importorskip('onnxruntime')

    class Correlate(torch.nn.Module):
        def forward(self, x):
            return stss(l2_normalize(x), (3, 5, 3)).contiguous()

    model = Correlate().eval()
    x = torch.randn(2, 3, 4, 5, 6)
    traced = torch.jit.trace(model, (x,))
    torch.testing.assert_close(traced(x), model(x))
    buffer = io.BytesIO()
    torch.onnx.export(model, (x,), buffer, dynamo=False, opset_version=17)
    session = ort.InferenceSession(buffer.getvalue())
    (onnx_out,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    torch.testing.assert_close(
        torch.from_numpy(onnx_out), model(x), rtol=0, atol=1e-5
    )


@pytest.mark.parametrize(
    'kwargs, match',
    [
        (dict(window=(8, 9)), r'window must be two odd sizes.*got \(8, 9\)'),
        (dict(window=(9,)), r'window must be two odd sizes.*got \(9,\)'),
        (dict(dilation=(0, 1)), r'dilation.*got \(0, 1\)'),
        (dict(temporal_offsets=()), 'temporal_offsets is empty'),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        local_correlation(torch.randn(1, 2, 3, 4, 4), **kwargs)


def test_bad_inputs():
    with pytest.raises(
        ValueError,
        match=r'\(N, T, C, H, W\), got \(2, 3, '
        r'4, 4\)',
    ):
        local_correlation(torch.randn(2, 3, 4, 4))
    with pytest.raises(
        ValueError,
        match=r'key shape must equal query shape '
        r'\(1, 2, 3, 4, 4\), got \(1, 2, 3, 4, 5\)',
    ):
        local_correlation(
            torch.randn(1, 2, 3, 4, 4), torch.randn(1, 2, 3, 4, 5)
        )
    with pytest.raises(
        ValueError,
        match=r'window must be three odd sizes '
        r'\(L, U, V\) >= 1, got \(4, 9, 9\)',
    ):
        stss(torch.randn(1, 2, 3, 4, 4), (4, 9, 9))
