"""TemporalGroupNorm (one group = BatchNorm, per-group statistics, layer
rule, ``bn`` names), SpeedOrderHead (pairs, shapes, errors), and the pretext
pretraining / fine-tuning configs (train_step, test_step, loading)."""

import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmcv.cnn import ConvModule, build_norm_layer
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import load_checkpoint

from selfy_mmaction.models.heads.speed_order import SpeedOrderHead
from selfy_mmaction.models.norms import TemporalGroupNorm

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PRETEXT = osp.join(
    REPO,
    'configs',
    'pretext',
    'speedorder_r3d18-tiny-tgn_8fx4clips-12e_motion32-pretext.py',
)
FINETUNE = osp.join(
    REPO,
    'configs',
    'pretext',
    'r3d18-tiny-tgn_speedorder-pretrained_1x8x2-15e_motion32-rgb.py',
)


def _randomise(norm):
    with torch.no_grad():
        norm.weight.uniform_(0.5, 1.5)
        norm.bias.uniform_(-0.5, 0.5)


def test_one_group_equals_batchnorm():
    tgn = TemporalGroupNorm(6).double()
    bn = nn.BatchNorm3d(6).double()
    _randomise(tgn)
    bn.load_state_dict(tgn.state_dict())  # same keys and shapes
    x = torch.randn(3, 6, 5, 4, 3, dtype=torch.float64)
    for _ in range(2):
        torch.testing.assert_close(tgn(x), bn(x), rtol=0, atol=1e-12)
    torch.testing.assert_close(tgn.running_var, bn.running_var)
    tgn.eval(), bn.eval()
    torch.testing.assert_close(tgn(x), bn(x), rtol=0, atol=1e-12)


def test_groups_have_their_own_statistics_and_affine():
    c, g, t = 4, 3, 6
    tgn = TemporalGroupNorm(c, num_groups=g).double()
    _randomise(tgn)
    x = torch.randn(2, c, t, 3, 5, dtype=torch.float64)
    out = tgn(x)
    for i in range(g):
        bn = nn.BatchNorm3d(c).double()
        with torch.no_grad():
            bn.weight.copy_(tgn.weight[i * c : (i + 1) * c])
            bn.bias.copy_(tgn.bias[i * c : (i + 1) * c])
        frames = slice(i * t // g, (i + 1) * t // g)
        torch.testing.assert_close(
            out[:, :, frames], bn(x[:, :, frames]), rtol=0, atol=1e-12
        )
        torch.testing.assert_close(
            tgn.running_mean[i * c : (i + 1) * c], bn.running_mean
        )
    with pytest.raises(ValueError, match='T must be a multiple of 3, got T=4'):
        tgn(torch.randn(2, c, 4, 3, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match=r'expects \(N, 4, T, H, W\)'):
        tgn(torch.randn(2, 5, 6, 3, 3, dtype=torch.float64))


def test_layer_rule_and_bn_names():
    init_default_scope('mmaction')
    cfg = dict(type='TemporalGroupNorm', num_groups=4, base_channels=16)
    groups = {
        c: build_norm_layer(cfg, c)[1].num_groups for c in (16, 32, 64, 128)
    }
    assert groups == {16: 4, 32: 2, 64: 1, 128: 1}
    name, layer = build_norm_layer(cfg, 32)
    assert name == 'bn' and layer.weight.shape == (64,)
    conv = ConvModule(3, 16, 3, conv_cfg=dict(type='Conv3d'), norm_cfg=cfg)
    assert conv.norm_name == 'bn'


def test_resnet3d_with_one_group_has_mmaction_keys():
    init_default_scope('mmaction')
    common = dict(
        type='ResNet3d',
        depth=18,
        base_channels=8,
        pretrained=None,
        pretrained2d=False,
    )
    bn = MODELS.build(dict(common, norm_cfg=dict(type='BN3d')))
    tgn = MODELS.build(
        dict(common, norm_cfg=dict(type='TemporalGroupNorm', num_groups=1))
    )
    bn_shapes = {k: v.shape for k, v in bn.state_dict().items()}
    assert bn_shapes == {k: v.shape for k, v in tgn.state_dict().items()}
    tgn.load_state_dict(bn.state_dict())


def test_speed_order_head_pairs():
    k, d, hidden = 3, 5, 7
    head = SpeedOrderHead(
        d, num_clips=k, hidden_channels=hidden, dropout_ratio=0
    ).double()
    head.init_weights()
    assert head.num_classes == 6
    x = torch.randn(2 * k, d, 2, 3, 3, dtype=torch.float64)
    feats = x.mean((2, 3, 4)).view(2, k, d)
    pairs = [
        torch.cat([feats[:, i], feats[:, j]], 1)
        for i, j in [(0, 1), (0, 2), (1, 2)]
    ]
    hidden_feats = [torch.relu(head.pair_fc(p)) for p in pairs]
    ref = head.fc_order(torch.cat(hidden_feats, 1))
    torch.testing.assert_close(head(x), ref, rtol=0, atol=1e-12)
    torch.testing.assert_close(head(x.mean((2, 3, 4))), ref)  # pooled input


def test_speed_order_head_errors():
    head = SpeedOrderHead(8, num_clips=4)
    assert head.fc_order.out_features == 24
    with pytest.raises(ValueError, match='multiple of num_segments=4'):
        head(torch.randn(6, 8, 1, 2, 2))
    with pytest.raises(ValueError, match='expects 8 feature channels'):
        head(torch.randn(8, 16))
    with pytest.raises(ValueError, match='num_clips! = 24'):
        SpeedOrderHead(8, num_clips=4, num_classes=10)


def _steps(model, inputs, labels, num_classes):
    samples = [ActionDataSample().set_gt_label(int(y)) for y in labels]
    data = dict(inputs=list(inputs), data_samples=samples)
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    model.train()
    losses = model.train_step(data, optim)
    assert torch.isfinite(losses['loss_cls'])
    model.eval()
    with torch.no_grad():
        preds = model.test_step(data)
    assert preds[0].pred_score.shape == (num_classes,)


def test_pretext_and_finetune_configs(tmp_path):
    init_default_scope('mmaction')
    cfg = Config.fromfile(PRETEXT)
    pretext = MODELS.build(cfg.model)
    pretext.init_weights()
    size = cfg.img_size
    # (N, K clips, C, T, H, W) uint8, as PackActionInputs gives them
    x = torch.randint(0, 255, (2, 4, 3, 8, size, size), dtype=torch.uint8)
    _steps(pretext, x, [3, 17], 24)
    ckpt = str(tmp_path / 'pretext.pth')
    torch.save(dict(state_dict=pretext.state_dict()), ckpt)

    ft_cfg = Config.fromfile(FINETUNE)
    assert ft_cfg.load_from.endswith('.pth')
    model = MODELS.build(ft_cfg.model)
    model.init_weights()
    head_before = model.cls_head.fc_cls.weight.clone()
    # what the runner does with `load_from`
    load_checkpoint(model, ckpt, map_location='cpu', strict=False)
    for key, value in pretext.backbone.state_dict().items():
        torch.testing.assert_close(model.backbone.state_dict()[key], value)
    assert torch.equal(model.cls_head.fc_cls.weight, head_before)
    _steps(model, x[:, :1], [1, 6], 8)


def test_ucf101_configs_build():
    init_default_scope('mmaction')
    folder = osp.join(REPO, 'configs', 'pretext')
    pretext = Config.fromfile(
        osp.join(
            folder,
            'speedorder_r2plus1d-r18-tgn_8xb8-4x16x1-120e_ucf101-pretext.py',
        )
    )
    finetune = Config.fromfile(
        osp.join(
            folder,
            'r2plus1d-r18-tgn_speedorder-pretrained_8xb30-'
            '16x1x1-45e_ucf101-rgb.py',
        )
    )
    sampler = pretext.train_dataloader.dataset.pipeline[1]
    assert sampler.type == 'PlaybackSpeedSampleFrames'
    assert finetune.load_from.endswith(
        f'ucf101-pretext/epoch_{pretext.train_cfg.max_epochs}.pth'
    )
    model = MODELS.build(pretext.model)
    assert isinstance(model.cls_head, SpeedOrderHead)
    groups = {
        layer: getattr(model.backbone, layer)[0].conv1.bn.num_groups
        for layer in ('layer1', 'layer2', 'layer3', 'layer4')
    }
    assert groups == dict(layer1=4, layer2=2, layer3=1, layer4=1)
    ft = MODELS.build(finetune.model)
    assert ft.cls_head.num_classes == 101
    assert {k: v.shape for k, v in ft.backbone.state_dict().items()} == {
        k: v.shape for k, v in model.backbone.state_dict().items()
    }
