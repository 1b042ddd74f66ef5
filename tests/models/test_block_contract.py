"""One contract for every motion block: an MMEngine BaseModule taking
``init_cfg``, whose default init is the block's own and whose given
``init_cfg`` replaces it, without re-initialising a wrapped pretrained conv."""

import importlib
import inspect
import pkgutil

import pytest
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule

import selfy_mmaction.models.blocks as blocks_package
from selfy_mmaction.models.blocks.base import MotionBlock
from selfy_mmaction.models.blocks.eca import ECA
from selfy_mmaction.models.blocks.stm import STMBlock
from selfy_mmaction.models.blocks.stsm import SpatioTemporalShift
from selfy_mmaction.models.blocks.tdn import TDNLearnableShift


def block_classes():
    """Every public nn.Module class defined in models/blocks/ (SELFY's
    module, restructured separately, aside)."""
    found = []
    for info in pkgutil.iter_modules(blocks_package.__path__):
        if info.name in ('selfy', 'base'):
            continue
        module = importlib.import_module(
            f'{blocks_package.__name__}.{info.name}'
        )
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if (
                cls.__module__ == module.__name__
                and not name.startswith('_')
                and issubclass(cls, nn.Module)
            ):
                found.append(cls)
    return found


BLOCKS = block_classes()


def test_every_block_is_found():
    names = {cls.__name__ for cls in BLOCKS}
    assert {
        'ECA',
        'STMBlock',
        'TDNLearnableShift',
        'CoSTConv',
        'SpatioTemporalShift',
        'TEABottleneck',
    } <= names
    assert 'ResNet3dCoST' not in names  # a backbone: models/backbones/


@pytest.mark.parametrize('cls', BLOCKS, ids=lambda c: c.__name__)
def test_block_is_a_base_module_taking_init_cfg(cls):
    assert issubclass(cls, MotionBlock) and issubclass(cls, BaseModule)
    parameter = inspect.signature(cls).parameters['init_cfg']
    assert parameter.default is None
    assert 'default_init' in vars(cls), 'the default init is its own'


def _ones(module):
    return all(bool((p == 1).all()) for p in module.parameters())


def test_default_init_without_init_cfg():
    eca = ECA(64, kernel_size=3)
    nn.init.constant_(eca.conv.weight, 7.0)
    eca.init_weights()  # PyTorch's default Conv1d init: |w| <= 1/sqrt(3)
    assert eca.conv.weight.abs().max() <= 3**-0.5


def test_init_cfg_replaces_the_default():
    eca = ECA(
        64,
        kernel_size=3,
        init_cfg=dict(type='Constant', layer='Conv1d', val=0.25),
    )
    eca.init_weights()
    assert torch.equal(eca.conv.weight, torch.full_like(eca.conv.weight, 0.25))


def _wrapped_conv():
    net = ConvModule(
        32,
        32,
        3,
        padding=1,
        bias=False,
        norm_cfg=dict(type='BN'),
        act_cfg=dict(type='ReLU'),
    )
    with torch.no_grad():
        net.conv.weight.fill_(0.5)  # stands in for an ImageNet kernel
    return net


def test_init_cfg_leaves_the_wrapped_conv_alone():
    """BaseModule.init_weights would also call ConvModule.init_weights on
    ``net`` (Kaiming): the given init_cfg reaches only the layers it names."""
    block = STMBlock(
        _wrapped_conv(),
        num_segments=4,
        init_cfg=dict(type='Constant', val=0.0, override=dict(name='expand')),
    )
    block.init_weights()
    assert not block.expand.weight.any()
    assert torch.equal(
        block.net.conv.weight, torch.full_like(block.net.conv.weight, 0.5)
    )
    # the default init also keeps net
    default = STMBlock(_wrapped_conv(), num_segments=4)
    default.init_weights()
    assert torch.equal(
        default.net.conv.weight, torch.full_like(default.net.conv.weight, 0.5)
    )


def test_blocks_on_other_bases_keep_the_contract():
    """TDN's shift (an nn.Conv1d) and the spatio-temporal shift (MMAction2's
    TemporalShift) take init_cfg too."""
    shift = TDNLearnableShift(16, 4)
    with torch.no_grad():
        shift.weight.fill_(3.0)
    shift.init_weights()  # back to TSM's shift pattern: one-hot taps
    taps = shift.weight.detach().view(16, -1)
    assert torch.equal(taps.sum(1), torch.ones(16))
    assert set(taps.flatten().tolist()) == {0.0, 1.0}
    constant = TDNLearnableShift(
        16, 4, init_cfg=dict(type='Constant', layer='TemporalConv1d', val=0.5)
    )  # MMEngine matches direct bases
    constant.init_weights()
    assert torch.equal(constant.weight, torch.full_like(constant.weight, 0.5))

    stsm = SpatioTemporalShift(
        _wrapped_conv(),
        num_segments=4,
        init_cfg=dict(type='Constant', val=0.0, layer='Conv2d'),
    )
    assert stsm.init_cfg == dict(type='Constant', val=0.0, layer='Conv2d')
    stsm.init_weights()
    assert not stsm.net.conv.weight.any()
