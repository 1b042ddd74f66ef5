"""Re-ID model: batch-hard triplet loss, BNNeck head, VideoReID."""

import pytest
import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.registry import init_default_scope

import selfy_mmaction  # noqa: F401
from selfy_mmaction.models.reid import BatchHardTripletLoss, BNNeckHead


def reference_triplet(feats, labels, margin):
    """Loop over anchors: farthest positive, nearest negative."""
    losses = []
    for i in range(len(feats)):
        d = [(feats[i] - feats[j]).norm() for j in range(len(feats))]
        pos = [d[j] for j in range(len(feats)) if labels[j] == labels[i]]
        neg = [d[j] for j in range(len(feats)) if labels[j] != labels[i]]
        if not neg:
            continue
        gap = max(pos) - min(neg)
        losses.append(
            F.softplus(gap) if margin is None else F.relu(gap + margin)
        )
    return torch.stack(losses).mean()


@pytest.mark.parametrize('margin', [0.3, None])
def test_triplet_matches_reference(margin):
    torch.manual_seed(0)
    feats = torch.randn(8, 5, dtype=torch.float64, requires_grad=True)
    labels = torch.tensor([0, 0, 1, 1, 2, 2, 2, 3])
    loss = BatchHardTripletLoss(margin=margin)(feats, labels)
    ref = reference_triplet(feats, labels, margin)
    torch.testing.assert_close(loss, ref)
    (g1,) = torch.autograd.grad(loss, feats)
    (g2,) = torch.autograd.grad(ref, feats)
    torch.testing.assert_close(g1, g2)


def test_triplet_single_identity_and_errors():
    feats = torch.randn(4, 3, requires_grad=True)
    loss = BatchHardTripletLoss()(feats, torch.zeros(4, dtype=torch.long))
    assert loss.item() == 0
    loss.backward()  # a graph, zero gradients
    assert feats.grad.abs().sum() == 0
    with pytest.raises(ValueError, match=r'feats \(N, D\)'):
        BatchHardTripletLoss()(torch.randn(4, 3), torch.zeros(3))
    with pytest.raises(ValueError, match='margin'):
        BatchHardTripletLoss(margin=-1)


def samples(labels):
    out = []
    for label in labels:
        ds = ActionDataSample()
        ds.set_gt_label(torch.tensor([label]))
        out.append(ds)
    return out


def test_head_losses_match_their_definitions():
    torch.manual_seed(0)
    head = BNNeckHead(
        in_channels=6,
        num_classes=4,
        label_smoothing=0.2,
        loss_triplet=dict(type='BatchHardTripletLoss', margin=0.5),
    )
    head.init_weights()
    labels = torch.tensor([0, 0, 1, 1, 3, 3])
    feats = torch.randn(6, 6, 2, 2)  # pooled over the trailing axes
    losses = head.loss(feats, samples(labels.tolist()))
    pooled = feats.mean((2, 3))
    bn = F.batch_norm(
        pooled, None, None, head.bnneck.weight, head.bnneck.bias, training=True
    )
    logits = bn @ head.classifier.weight.t()
    torch.testing.assert_close(
        losses['loss_id'], F.cross_entropy(logits, labels, label_smoothing=0.2)
    )
    torch.testing.assert_close(
        losses['loss_triplet'], reference_triplet(pooled, labels, 0.5)
    )
    assert 0 <= losses['id_acc'] <= 1
    (losses['loss_id'] + losses['loss_triplet']).backward()
    assert head.classifier.weight.grad.abs().sum() > 0
    assert head.bnneck.weight.grad.abs().sum() > 0
    assert head.bnneck.bias.grad is None  # the BNNeck has no shift


def test_head_pools_views_and_segments():
    head = BNNeckHead(in_channels=3, num_classes=2, num_segments=4)
    feats = torch.randn(2 * 3 * 4, 3)  # N=2 samples, V=3 views, S=4 rows
    expected = feats.view(2, 12, 3).mean(1)
    torch.testing.assert_close(head.pool(feats, num_views=3), expected)
    with pytest.raises(ValueError, match='num_views=5 x num_segments=4'):
        head.pool(feats, num_views=5)
    with pytest.raises(ValueError, match=r'\(N\*V\*S, 3\)'):
        head.pool(torch.randn(24, 7))


def test_head_predict_embeddings():
    torch.manual_seed(0)
    feats = torch.randn(5, 4)
    for embedding in ('after', 'before'):
        head = BNNeckHead(in_channels=4, num_classes=3, embedding=embedding)
        head.bnneck.running_mean.uniform_()
        head.bnneck.running_var.uniform_(0.5, 2)
        head.eval()
        out = head.predict(feats, samples([0] * 5))
        got = torch.stack([ds.embedding for ds in out])
        if embedding == 'after':
            expected = (feats - head.bnneck.running_mean) / torch.sqrt(
                head.bnneck.running_var + head.bnneck.eps
            ) * head.bnneck.weight + head.bnneck.bias
        else:
            expected = feats
        torch.testing.assert_close(got, expected)


def test_head_label_errors():
    head = BNNeckHead(in_channels=4, num_classes=3)
    with pytest.raises(ValueError, match=r'\[0, num_classes=3\).*\[3\]'):
        head.loss(torch.randn(2, 4), samples([0, 3]))
    with pytest.raises(ValueError, match='embedding'):
        BNNeckHead(in_channels=4, num_classes=3, embedding='mid')


def tiny_vit():
    return dict(
        type='TimeSformer',
        num_frames=4,
        img_size=16,
        patch_size=8,
        embed_dims=16,
        num_heads=2,
        num_transformer_layers=1,
        attention_type='space_only',
    )


def tiny_mstat():
    return dict(
        type='MSTAT',
        num_segments=4,
        img_size=(16, 16),
        patch_size=8,
        embed_dims=16,
        num_heads=2,
        stage_depths=(1, 1, 1),
        combine='concat',
    )


@pytest.mark.parametrize(
    'backbone,channels,segments', [(tiny_vit(), 16, 1), (tiny_mstat(), 48, 4)]
)
def test_video_reid_train_and_predict(backbone, channels, segments):
    init_default_scope('mmaction')
    torch.manual_seed(0)
    model = MODELS.build(
        dict(
            type='VideoReID',
            backbone=backbone,
            cls_head=dict(
                type='BNNeckHead',
                in_channels=channels,
                num_classes=3,
                num_segments=segments,
            ),
            data_preprocessor=dict(
                type='ActionDataPreprocessor', format_shape='NCTHW'
            ),
        )
    )
    model.init_weights()
    inputs = torch.randn(6, 1, 3, 4, 16, 16)  # N, V, C, T, H, W
    losses = model(inputs, samples([0, 0, 1, 1, 2, 2]), mode='loss')
    assert set(losses) == {'loss_id', 'loss_triplet', 'id_acc'}
    (losses['loss_id'] + losses['loss_triplet']).backward()
    grads = [p.grad for p in model.backbone.parameters() if p.requires_grad]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)
    model.eval()
    with torch.no_grad():
        out = model(
            inputs[:2].repeat(1, 2, 1, 1, 1, 1),
            samples([0, 1]),
            mode='predict',
        )
        single = model(inputs[:2], samples([0, 1]), mode='predict')
    # two identical views average to the single view's embedding
    for a, b in zip(out, single):
        assert a.embedding.shape == (channels,)
        torch.testing.assert_close(a.embedding, b.embedding)


def test_video_reid_rejects_other_layouts():
    init_default_scope('mmaction')
    model = MODELS.build(
        dict(
            type='VideoReID',
            backbone=tiny_vit(),
            cls_head=dict(type='BNNeckHead', in_channels=16, num_classes=3),
        )
    )
    with pytest.raises(ValueError, match=r'\(N, V, C, T, H, W\)'):
        model(torch.randn(2, 3, 4, 16, 16), samples([0, 1]), mode='loss')
