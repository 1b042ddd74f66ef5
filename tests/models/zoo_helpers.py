"""Helpers shared by the seed-zoo block tests (ECA, STSM, P3D, R(2+1)D, CoST):
parameter counts, gradient reach, optimizer construction, config smoke runs.
"""

import os.path as osp
import re

import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper as mmengine_build_optim
from mmengine.registry import init_default_scope

CONFIGS = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs'
)


@pytest.fixture(autouse=True)
def single_thread():
    """One intra-op thread: these small convs run several times faster than
    with threads competing on a shared 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def count_params(module):
    return sum(p.numel() for p in module.parameters())


def grads_reach_all(module, *inputs):
    """Backpropagate a non-trivial loss; every parameter must get a non-zero
    gradient."""
    out = module(*inputs)
    (out * torch.randn_like(out)).sum().backward()
    for name, p in module.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def build_optim_wrapper(model, constructor):
    """Build an SGD optim wrapper with ``constructor``; every parameter must
    be optimised exactly once."""
    wrapper = mmengine_build_optim(
        model,
        dict(
            type='OptimWrapper',
            constructor=constructor,
            optimizer=dict(
                type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4
            ),
        ),
    )
    seen = [id(p) for g in wrapper.optimizer.param_groups for p in g['params']]
    assert len(seen) == len(set(seen)), 'a parameter is in two groups'
    missing = [n for n, p in model.named_parameters() if id(p) not in seen]
    assert not missing, f'not optimised: {missing}'
    return wrapper


def _no_pretrained(backbone):
    backbone['pretrained'] = None
    backbone['pretrained2d'] = False


def check_config_steps(name, size=16, batch=2):
    """Build the config's model without pretrained weights and run one
    ``train_step`` and one ``test_step`` on a tiny random batch (frames per
    clip from the model's layout). Returns the model."""
    init_default_scope('mmaction')
    cfg = Config.fromfile(osp.join(CONFIGS, name))
    model_cfg = cfg.model
    _no_pretrained(model_cfg.backbone)
    model = MODELS.build(model_cfg)
    model.init_weights()
    fmt = model_cfg.data_preprocessor.get('format_shape', 'NCHW')
    frames = model_cfg.cls_head.get('num_segments', 8)
    if fmt == 'NCHW':
        shape = (frames, 3, size, size)
    else:
        shape = (1, 3, frames, size, size)
    classes = model_cfg.cls_head.num_classes
    data = dict(
        inputs=[
            torch.randint(0, 256, shape, dtype=torch.uint8)
            for _ in range(batch)
        ],
        data_samples=[
            ActionDataSample().set_gt_label(i % classes) for i in range(batch)
        ],
    )
    optim = mmengine_build_optim(model, cfg.optim_wrapper)
    losses = model.train_step(data, optim)
    assert torch.isfinite(losses['loss_cls']), losses
    preds = model.test_step(data)
    assert len(preds) == batch
    assert preds[0].pred_score.shape == (classes,)
    return model


def _torchvision_keys(state_dict):
    """MMAction2 ResNet keys -> torchvision's (what MMAction2's ImageNet
    loaders read): ``layer1.0.conv1.conv.weight`` -> ``layer1.0.conv1.weight``,
    ``layer1.0.conv1.bn.*`` -> ``layer1.0.bn1.*``, downsample -> ``.0``/``.1``.
    """
    out = {}
    for key, value in state_dict.items():
        if key.endswith('num_batches_tracked'):
            continue
        key = re.sub(r'conv(\d)\.conv\.', r'conv\1.', key)
        key = re.sub(r'conv(\d)\.bn\.', r'bn\1.', key)
        key = key.replace('downsample.conv.', 'downsample.0.')
        out[key.replace('downsample.bn.', 'downsample.1.')] = value
    return out


def imagenet_pair(
    tmp_path, depth, blocks, backbone='ResNetWithBlocks', **kwargs
):
    """A plain MMAction2 ResNet with random (non-trivial BN) weights, saved
    as a torchvision checkpoint, and our backbone loading it through the
    ImageNet path (which raises if a ResNet weight is missed). Both float64.
    """
    plain = MODELS.build(dict(type='ResNet', depth=depth, pretrained=None))
    plain.init_weights()
    with torch.no_grad():
        for m in plain.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_()
                m.running_mean.normal_()
                m.running_var.uniform_(0.5, 1.5)
    path = str(tmp_path / f'r{depth}.pth')
    torch.save(_torchvision_keys(plain.state_dict()), path)
    ours = MODELS.build(
        dict(
            type=backbone,
            depth=depth,
            pretrained=path,
            pretrained2d=True,
            blocks=blocks,
            **kwargs,
        )
    )
    ours.init_weights()
    return plain.double(), ours.double()
