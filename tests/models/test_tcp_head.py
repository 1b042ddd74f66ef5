"""TCPHead: identity attention at init, the authors' parameter count, the
Newton-Schulz square root against an eigendecomposition, gradients, shapes,
AMP, errors and the configs."""

import os.path as osp

import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope

from selfy_mmaction.models.heads.tcp import (
    TCPHead,
    TCPTemporalAttention,
    covariance,
    newton_schulz_sqrt,
    upper_triangle,
)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _count(module):
    return sum(p.numel() for p in module.parameters())


def _spd(b, c, cond=20.0, dtype=torch.float64):
    """Random symmetric positive definite matrices with eigenvalues in
    [1, cond] (times a random scale), and their eigendecomposition."""
    q, _ = torch.linalg.qr(torch.randn(b, c, c, dtype=dtype))
    lam = torch.rand(b, c, dtype=dtype) * (cond - 1) + 1
    lam = lam * torch.rand(b, 1, dtype=dtype) * 10
    return q @ torch.diag_embed(lam) @ q.transpose(1, 2), q, lam


@pytest.mark.parametrize('t', [8, 16])
def test_attention_is_identity_at_init(t):
    att = TCPTemporalAttention(16, t).double()
    att.init_weights()
    att.train()
    x = torch.relu(torch.randn(2 * t, 16, 3, 5, dtype=torch.float64))
    assert torch.equal(att(x), x)
    # the parts are not trivial: TSA and TCA do change their input
    assert not torch.allclose(att.tca(x), torch.ones_like(x[:, :, :1, :1]))
    with torch.no_grad():
        att.tsa.bn.weight.fill_(1)
    assert not torch.allclose(att.tsa(x), x)


@pytest.mark.parametrize(
    't,total,tconv', [(8, 821376, 82048), (16, 886912, 147584)]
)
def test_parameter_count_matches_authors(t, total, tconv):
    """Authors' module, measured on the official code (docs/paper_numbers.md):
    0.821 M at 8 frames (reduction 0.558, TSA 0.050, TCA 0.132, tconv
    0.082 M), 0.887 M at 16."""
    head = TCPHead(num_classes=400, num_segments=t)
    assert head.attention.tconv.kernel_size == (t // 2 + 1, 1, 1)
    parts = dict(
        reduction=_count(head.reduce),
        tsa=_count(head.attention.tsa),
        tca=_count(head.attention.tca),
        tconv=_count(head.attention.tconv),
    )
    authors = dict(reduction=0.558e6, tsa=0.050e6, tca=0.132e6)
    authors['tconv'] = 0.082e6 if t == 8 else None
    for name, value in authors.items():
        if value is not None:
            assert abs(parts[name] - value) / value < 0.01, (name, parts)
    ours = _count(head) - _count(head.fc_cls)
    paper = 0.821e6 if t == 8 else 0.887e6
    assert abs(ours - paper) / paper < 0.01
    assert (ours, parts['tconv']) == (total, tconv)
    assert head.fc_cls.in_features == 8256


def test_covariance_equals_centring_matrix_formula():
    x = torch.randn(3, 5, 11, dtype=torch.float64)
    m = x.shape[2]
    ibar = (
        torch.eye(m, dtype=x.dtype) - torch.ones(m, m, dtype=x.dtype) / m
    ) / m
    torch.testing.assert_close(
        covariance(x), x @ ibar @ x.transpose(1, 2), rtol=0, atol=1e-12
    )


def test_newton_schulz_converges_to_eigen_sqrt():
    cov, q, lam = _spd(4, 12, cond=10)
    ref = q @ torch.diag_embed(lam.sqrt()) @ q.transpose(1, 2)
    out = newton_schulz_sqrt(cov, num_iters=30, eps=0)
    torch.testing.assert_close(out, ref, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(out @ out, cov, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize('num_iters', [1, 3, 5])
def test_newton_schulz_equals_scalar_iteration_on_eigenvalues(num_iters):
    """Every iterate is a polynomial of A = cov/tr, so n iterations act on
    each eigenvalue as the scalar recurrence."""
    cov, q, lam = _spd(3, 9, cond=200)
    tr = lam.sum(-1, keepdim=True)  # the authors' normalisation: no eps
    y, z = lam / tr, torch.ones_like(lam)
    for _ in range(num_iters):
        p = 0.5 * (3 - z * y)
        y, z = y * p, p * z
    ref = q @ torch.diag_embed(y * tr.sqrt()) @ q.transpose(1, 2)
    torch.testing.assert_close(
        newton_schulz_sqrt(cov, num_iters), ref, rtol=1e-10, atol=1e-10
    )


def _authors_isqrt(cov, num_iters):
    """iSQRT as the TCP/iSQRT-COV authors define it, step by step:
    normA = trace, A = cov / normA, Y_1 = A(3I - A)/2, Z_1 = (3I - A)/2,
    then ZY = (3I - Z Y)/2, Y = Y ZY, Z = ZY Z, and at the last step
    Y = Y (3I - Z Y)/2; the result Y * sqrt(normA)."""
    eye3 = 3 * torch.eye(cov.shape[1], dtype=cov.dtype)
    norm = cov.diagonal(dim1=1, dim2=2).sum(-1)[:, None, None]
    a = cov / norm
    zy = 0.5 * (eye3 - a)
    if num_iters == 1:
        return a @ zy * norm.sqrt()
    y, z = a @ zy, zy
    for _ in range(1, num_iters - 1):
        zy = 0.5 * (eye3 - z @ y)
        y, z = y @ zy, zy @ z
    return y @ (0.5 * (eye3 - z @ y)) * norm.sqrt()


@pytest.mark.parametrize('num_iters', [1, 2, 3, 5])
def test_newton_schulz_is_the_authors_isqrt(num_iters):
    """sqrt(trace) compensation, no eps: the authors' forward to rounding
    (float64), also for a tiny but non-zero trace."""
    cov, _, _ = _spd(3, 9, cond=200)
    for scale in (1.0, 1e-4):
        torch.testing.assert_close(
            newton_schulz_sqrt(cov * scale, num_iters),
            _authors_isqrt(cov * scale, num_iters),
            rtol=1e-12,
            atol=0,
        )


def test_newton_schulz_zero_covariance_is_finite():
    """The only departure from the authors: a zero trace (their 0/0 = NaN)
    is clamped to eps, giving a zero square root."""
    cov = torch.zeros(2, 4, 4, dtype=torch.float64)
    assert torch.isnan(_authors_isqrt(cov, 3)).all()
    out = newton_schulz_sqrt(cov, 3)
    assert torch.equal(out, torch.zeros_like(out))


def test_newton_schulz_gradcheck():
    x = torch.randn(2, 4, 7, dtype=torch.float64)
    cov = covariance(x).detach().requires_grad_()
    assert torch.autograd.gradcheck(lambda c: newton_schulz_sqrt(c, 3), cov)
    # and through the covariance, from the features
    x.requires_grad_()
    assert torch.autograd.gradcheck(
        lambda f: upper_triangle(newton_schulz_sqrt(covariance(f), 3)), x
    )


def test_newton_schulz_float32_under_autocast():
    cov = covariance(torch.randn(2, 6, 30)).to(torch.bfloat16)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = newton_schulz_sqrt(cov)
        head = TCPHead(5, in_channels=8, num_segments=4, reduce_channels=(6,))
        head.init_weights()
        pooled = head.pool(torch.randn(8, 8, 3, 3))
    assert out.dtype == torch.float32 and pooled.dtype == torch.float32


def test_upper_triangle():
    x = torch.arange(16.0).view(1, 4, 4)
    assert upper_triangle(x).tolist() == [[0, 1, 2, 3, 5, 6, 7, 10, 11, 15]]
    assert upper_triangle(torch.zeros(2, 128, 128)).shape == (2, 8256)


@pytest.mark.parametrize(
    't,level', [(8, 'video'), (16, 'video'), (8, 'frame')]
)
def test_head_shapes_views_and_num_segs(t, level):
    head = TCPHead(
        7,
        in_channels=24,
        num_segments=t,
        reduce_channels=(16, 8),
        level=level,
        average_clips='prob',
    )
    head.init_weights()
    head.eval()
    views = 3
    x = torch.randn(2 * views * t, 24, 5, 7)  # odd stride-1 map
    scores = head(x, num_segs=views * t)
    assert scores.shape == (2 * views, 7)
    torch.testing.assert_close(scores, head(x))  # num_segs is ignored
    # one view at a time gives the same scores
    first = head(x.view(2, views * t, 24, 5, 7)[:, :t].reshape(-1, 24, 5, 7))
    torch.testing.assert_close(scores.view(2, views, 7)[:, 0], first)
    samples = [ActionDataSample().set_gt_label(0) for _ in range(2)]
    preds = head.predict_by_feat(scores, samples)
    assert preds[0].pred_score.shape == (7,)
    torch.testing.assert_close(preds[0].pred_score.sum(), torch.tensor(1.0))


def test_video_level_pools_all_frames():
    """The video covariance mixes frames: its mean term is the clip mean."""
    head = TCPHead(
        3,
        in_channels=4,
        num_segments=2,
        reduce_channels=(4,),
        with_tsa=False,
        with_tca=False,
        with_tconv=False,
        num_iters=30,
    )
    head.init_weights()
    head.eval()
    x = torch.randn(2, 4, 3, 3)
    feats = head.reduce(x).view(1, 2, 4, 9).transpose(1, 2).reshape(1, 4, 18)
    cov = covariance(feats.double())
    lam, q = torch.linalg.eigh(cov)
    ref = q @ torch.diag_embed(lam.clamp(min=0).sqrt()) @ q.transpose(1, 2)
    torch.testing.assert_close(
        head.pool(x).double(), ref, rtol=1e-3, atol=1e-3
    )


def test_head_errors():
    head = TCPHead(3, in_channels=16, num_segments=8, reduce_channels=(8,))
    with pytest.raises(ValueError, match='multiple of num_segments=8'):
        head(torch.randn(12, 16, 4, 4))
    with pytest.raises(ValueError, match=r'expects \(N\*T, 16, H, W\)'):
        head(torch.randn(8, 32, 4, 4))
    with pytest.raises(ValueError, match='level'):
        TCPHead(3, level='clip')
    with pytest.raises(ValueError, match=r'expects \(B, C, C\)'):
        newton_schulz_sqrt(torch.randn(2, 3, 4))


def _train_and_test(model, inputs, num_classes):
    samples = [
        ActionDataSample().set_gt_label(i % num_classes)
        for i in range(inputs.shape[0])
    ]
    data = dict(inputs=list(inputs), data_samples=samples)
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    model.train()
    losses = model.train_step(data, optim)
    assert torch.isfinite(losses['loss_cls'])
    model.eval()
    with torch.no_grad():
        preds = model.test_step(data)
    score = preds[0].pred_score
    assert score.shape == (num_classes,)
    assert 0 <= score.min() and score.max() <= 1


def test_motion_config_train_and_test_step():
    init_default_scope('mmaction')
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'tcp', 'tcp_tsm-r18_1x1x8-4e_motion-rgb.py')
    )
    assert tuple(cfg.model.backbone.strides) == (1, 2, 2, 1)
    model = MODELS.build(cfg.model)
    head = model.cls_head
    head.init_weights()
    assert isinstance(head, TCPHead) and head.in_channels == 512
    x = torch.randint(0, 255, (2, 8, 3, 32, 32), dtype=torch.uint8)
    feat = model.backbone(torch.randn(16, 3, 32, 32))
    assert feat.shape == (16, 512, 2, 2)  # stride-1 last stage: 32 px / 16
    _train_and_test(model, x, cfg.model.cls_head.num_classes)


@pytest.mark.parametrize(
    'name',
    [
        'tcp_imagenet-pretrained-tsn-r50_8xb8-1x1x8-50e_sthv1-rgb.py',
        'tcp_imagenet-pretrained-tsm-r50_8xb8-1x1x8-50e_sthv1-rgb.py',
        'tcp_imagenet-pretrained-tea-res2net50_8xb8-1x1x8-50e_sthv1-rgb.py',
        'tcp_imagenet-pretrained-tsn-r50_8xb8-1x1x16-50e_sthv1-rgb.py',
    ],
)
def test_sthv1_configs_build(name):
    init_default_scope('mmaction')
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'tcp', name))
    head_cfg = cfg.model.cls_head
    assert head_cfg.type == 'TCPHead' and head_cfg.num_classes == 174
    assert head_cfg.num_segments == cfg.train_pipeline[0].num_clips
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys == {
        'cls_head': dict(lr_mult=5)
    }
    assert tuple(cfg.model.backbone.strides) == (1, 2, 2, 1)
    cfg.model.backbone.pretrained = None  # no download in tests
    cfg.model.backbone.pop('pretrained2d', None)
    model = MODELS.build(cfg.model)
    model.eval()
    t = head_cfg.num_segments
    with torch.no_grad():
        feat = model.backbone(torch.randn(t, 3, 32, 32))
        assert feat.shape == (t, 2048, 2, 2)  # stride 16, not 32
        assert model.cls_head(feat).shape == (1, 174)
