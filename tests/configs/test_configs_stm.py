"""The STM configs parse, inherit the shared SSv1 recipe, build, and train
one step with the optimiser they configure."""

import os.path as osp

import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from selfy_mmaction.models.blocks.stm import STMBlock

CONFIGS = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
    'configs',
    'stm',
)
SSV1 = 'stm_imagenet-pretrained-r50_8xb8-1x1x8-50e_sthv1-rgb.py'
MOTION = 'stm_r18_1x1x8-4e_motion-rgb.py'


def _model(cfg):
    init_default_scope('mmaction')
    cfg.model.backbone.update(pretrained=None, pretrained2d=False)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def _train_step(cfg, model, t, size):
    data = dict(
        inputs=[
            torch.randint(0, 256, (t, 3, size, size), dtype=torch.uint8)
            for _ in range(2)
        ],
        data_samples=[ActionDataSample().set_gt_label(i) for i in range(2)],
    )
    losses = model.train_step(
        data, build_optim_wrapper(model, cfg.optim_wrapper)
    )
    assert torch.isfinite(losses['loss_cls'])


def test_ssv1_config_recipe_and_model():
    cfg = Config.fromfile(osp.join(CONFIGS, SSV1))
    assert cfg.custom_imports.imports == ['selfy_mmaction']
    assert cfg.default_scope == 'mmaction'
    train = cfg.train_dataloader
    assert (
        train.batch_size == 8
        and train.dataset.type == 'CheckedRawframeDataset'
    )
    assert train.dataset.filename_tmpl == '{:05}.jpg'
    assert train.dataset.start_index == 1
    assert cfg.optim_wrapper.optimizer.lr == 0.01
    assert cfg.optim_wrapper.optimizer.nesterov
    assert cfg.optim_wrapper.clip_grad.max_norm == 20
    assert cfg.param_scheduler[0].milestones == [30, 40]
    assert cfg.train_cfg.max_epochs == 50
    assert cfg.model.cls_head.dropout_ratio == 0.5
    assert cfg.model.backbone.pretrained == 'torchvision://resnet50'
    model = _model(cfg)
    backbone = model.backbone
    assert type(backbone).__name__ == 'ResNetWithBlocks'
    assert not backbone.is_shift and backbone.num_segments == 8
    assert model.cls_head.num_segments == 8
    assert model.cls_head.fc_cls.out_features == 174
    assert sum(isinstance(m, STMBlock) for m in backbone.modules()) == 16
    _train_step(cfg, model, 8, 32)


def test_motion_config_trains_a_step():
    cfg = Config.fromfile(osp.join(CONFIGS, MOTION))
    model = _model(cfg)
    assert sum(isinstance(m, STMBlock) for m in model.backbone.modules()) == 8
    assert not model.backbone.is_shift
    _train_step(cfg, model, 8, 64)
