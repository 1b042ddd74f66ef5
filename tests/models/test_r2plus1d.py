import numpy as np
import pytest
import torch
from mmaction.registry import MODELS, TRANSFORMS
from mmcv.cnn import ConvModule
from mmengine.config import Config
from mmengine.registry import init_default_scope
from zoo_helpers import (
    CONFIGS,
    build_optim_wrapper,
    check_config_steps,
    count_params,
    grads_reach_all,
    imagenet_pair,
    single_thread,  # noqa: F401  (autouse fixture)
)

from selfy_mmaction.models.blocks.r2plus1d import R2Plus1DConv
from selfy_mmaction.ops.factorised import TemporalConv
from selfy_mmaction.ops.temporal import TemporalConv1d

ALL_STAGES = ('layer1', 'layer2', 'layer3', 'layer4')


def _conv3x3(cin, cout, stride=1):
    return ConvModule(
        cin,
        cout,
        3,
        stride=stride,
        padding=1,
        bias=False,
        norm_cfg=dict(type='BN'),
        act_cfg=dict(type='ReLU'),
    )


def _block(cin=8, cout=8, t=4, stride=1, **kwargs):
    block = R2Plus1DConv(_conv3x3(cin, cout, stride), t, **kwargs)
    block.init_weights()
    return block.double().train()


def _temporal_ref(x, weight, t):
    """y_t = sum_j W[:, :, j] x_{t+j-1}, zero outside; weight (C, C, 3)."""
    nt, c, h, w = x.shape
    x5 = torch.nn.functional.pad(
        x.reshape(nt // t, t, c, h, w), (0, 0, 0, 0, 0, 0, 1, 1)
    )
    out = sum(
        torch.einsum('oc,ntchw->ntohw', weight[:, :, j], x5[:, j : j + t])
        for j in range(3)
    )
    return out.reshape(nt, -1, h, w)


@pytest.mark.parametrize('depthwise', [False, True])
@pytest.mark.parametrize(
    't,stride,hw', [(4, 1, (5, 7)), (3, 2, (9, 4)), (1, 2, (3, 3))]
)
def test_identity_at_init(depthwise, t, stride, hw):
    block = _block(8, 16, t, stride, depthwise=depthwise)
    x = torch.randn(2 * t, 8, *hw, dtype=torch.float64)
    torch.testing.assert_close(block(x), block.net(x), rtol=0, atol=0)


@pytest.mark.parametrize('depthwise', [False, True])
def test_formula_with_trained_temporal_conv(depthwise):
    t = 3
    block = _block(8, 8, t, depthwise=depthwise)
    with torch.no_grad():
        w = block.temporal.weight if depthwise else block.temporal.conv.weight
        w.normal_()
    weight = (
        torch.diag_embed(w[:, 0].transpose(0, 1)).permute(1, 2, 0)
        if depthwise
        else w[..., 0, 0]
    )
    x = torch.randn(2 * t, 8, 5, 6, dtype=torch.float64)
    torch.testing.assert_close(
        block(x), _temporal_ref(block.net(x), weight, t), rtol=0, atol=1e-10
    )


def test_parameters_and_gradients():
    full, depthwise = _block(8, 16), _block(8, 16, depthwise=True)
    net_params = count_params(full.net)
    assert count_params(full) - net_params == 3 * 16 * 16
    assert count_params(depthwise) - net_params == 3 * 16
    for block in (full, depthwise):
        grads_reach_all(block, torch.randn(8, 8, 5, 5, dtype=torch.float64))


def test_resnet50_at_init_is_the_imagenet_resnet(tmp_path):
    t = 2
    plain, ours = imagenet_pair(
        tmp_path,
        50,
        [
            dict(
                cfg=dict(type='R2Plus1DConv'),
                position='wrap_conv2',
                layers=ALL_STAGES,
            )
        ],
        num_segments=t,
    )
    assert (
        len([m for m in ours.modules() if isinstance(m, R2Plus1DConv)]) == 16
    )
    x = torch.randn(2 * t, 3, 19, 25, dtype=torch.float64)
    for mode in (True, False):
        plain.train(mode)
        ours.train(mode)
        torch.testing.assert_close(ours(x), plain(x), rtol=0, atol=1e-9)


def test_clear_errors():
    with pytest.raises(TypeError, match='is_shift=False'):
        MODELS.build(
            dict(
                type='ResNetTSMWithBlocks',
                depth=18,
                pretrained=None,
                pretrained2d=False,
                blocks=[
                    dict(cfg=dict(type='R2Plus1DConv'), position='wrap_conv1')
                ],
            )
        )
    with pytest.raises(ValueError, match='needs in_channels == out_channels'):
        TemporalConv(8, 16, 4, init='identity')
    with pytest.raises(ValueError, match='kernel_size must be odd'):
        TemporalConv(8, 8, 4, kernel_size=2)
    with pytest.raises(ValueError, match='init must be one of'):
        TemporalConv(8, 8, 4, init='shift')
    with pytest.raises(ValueError, match='not a multiple of num_segments=4'):
        _block()(torch.randn(6, 8, 3, 3, dtype=torch.float64))


def test_full_form_works_with_the_tsm_optim_constructor():
    init_default_scope('mmaction')
    model = MODELS.build(
        dict(
            type='Recognizer2D',
            backbone=dict(
                type='ResNetWithBlocks',
                depth=18,
                num_segments=2,
                pretrained=None,
                pretrained2d=False,
                blocks=[
                    dict(
                        cfg=dict(type='R2Plus1DConv'),
                        position='wrap_conv1',
                        layers=ALL_STAGES,
                    )
                ],
            ),
            cls_head=dict(
                type='TSMHead', num_classes=3, in_channels=512, num_segments=2
            ),
        )
    )
    build_optim_wrapper(model, 'TSMOptimWrapperConstructor')


def test_mmaction_r2plus1d_motion_pipeline_gives_one_8_frame_clip():
    init_default_scope('mmaction')
    cfg = Config.fromfile(
        f'{CONFIGS}/r2plus1d/r2plus1d_r18_1x1x8-4e_motion-rgb.py'
    )
    for pipeline, test_mode in (
        (cfg.train_pipeline, False),
        (cfg.val_pipeline, True),
    ):
        steps = [
            TRANSFORMS.build(s)
            for s in pipeline
            if s['type']
            not in ('DecordInit', 'DecordDecode', 'PackActionInputs')
        ]
        results = dict(total_frames=16, start_index=0, modality='RGB')
        results = steps[0](results)  # the sampler
        assert len(results['frame_inds']) == 8
        if test_mode:
            assert list(results['frame_inds']) == sorted(results['frame_inds'])
        results['imgs'] = [np.zeros((72, 80, 3), np.uint8)] * 8
        results['original_shape'] = results['img_shape'] = (72, 80)
        for step in steps[1:]:
            results = step(results)
        assert results['imgs'].shape == (1, 3, 8, 64, 64)


@pytest.mark.parametrize(
    'name,count',
    [
        ('r2plus1d/r2plus1d_r18_1x1x8-4e_motion-rgb.py', 0),
        ('r2plus1d/r2plus1d-2d_r18_1x1x8-4e_motion-rgb.py', 16),
        (
            'r2plus1d/r2plus1d-2d_imagenet-pretrained-r50_8xb8-1x1x8-50e_'
            'sthv1-rgb.py',
            16,
        ),
    ],
)
def test_configs_build_and_step(name, count):
    model = check_config_steps(name)
    blocks = [m for m in model.modules() if isinstance(m, R2Plus1DConv)]
    assert len(blocks) == count
    if count == 0:
        assert type(model.backbone).__name__ == 'ResNet2Plus1d'
    assert not any(isinstance(m, TemporalConv1d) for m in model.modules())
