"""selfy_mmaction.analysis.complexity: mmengine counts plus analytic
correlations."""

import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmengine.analysis import get_model_complexity_info
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SELFY_8F = osp.join(
    REPO,
    'configs',
    'selfy',
    'selfy_imagenet-pretrained-r50_8xb8-1x1x8-50e_sthv1-rgb.py',
)
TSM_8F = SELFY_8F.replace('selfy', 'tsm')

from selfy_mmaction.analysis import complexity as cx  # noqa: E402


def r18(path, **model):
    cfg = Config.fromfile(path)
    cfg.model.backbone.depth = 18
    cfg.model.cls_head.in_channels = 512
    for key, value in model.items():
        cfg.model.backbone[key] = value
    return cfg


def test_without_pretrained_switches_every_load_off():
    cfg = dict(
        type='Recognizer2D',
        backbone=dict(
            type='ResNetTSMWithBlocks',
            depth=50,
            pretrained='torchvision://resnet50',
            blocks=[dict(cfg=dict(type='X', pretrained='a.pth'))],
        ),
        neck=dict(
            type='ResNet',
            depth=18,
            init_cfg=dict(type='Pretrained', checkpoint='b.pth'),
        ),
        cls_head=dict(
            type='TSMHead',
            init_cfg=[
                dict(type='Normal', std=0.01),
                dict(type='Pretrained', checkpoint='c.pth'),
            ],
        ),
    )
    out = cx.without_pretrained(cfg)
    assert out['backbone']['pretrained'] is None
    # ResNetTSM defaults to pretrained2d=True, which needs a path
    assert out['backbone']['pretrained2d'] is False
    assert out['backbone']['blocks'][0]['cfg']['pretrained'] is None
    assert 'init_cfg' not in out['neck']
    assert 'pretrained2d' not in out['neck']  # ResNet does not take it
    assert out['cls_head']['init_cfg'] == [dict(type='Normal', std=0.01)]
    assert cfg['backbone']['pretrained'] == 'torchvision://resnet50'


def test_clip_input_shape_follows_the_val_pipeline():
    cfg = Config.fromfile(SELFY_8F)
    assert cx.clip_input_shape(cfg) == (1, 8, 3, 224, 224)
    assert cx.clip_input_shape(cfg, 64) == (1, 8, 3, 64, 64)
    snippets = Config(
        dict(
            val_dataloader=dict(
                dataset=dict(
                    pipeline=[
                        dict(type='SampleFrames', clip_len=5, num_clips=8),
                        dict(type='CenterCrop', crop_size=256),
                        dict(type='FormatShape', input_format='NCHW'),
                    ]
                )
            )
        )
    )
    assert cx.clip_input_shape(snippets) == (1, 40, 3, 256, 256)
    clips3d = Config(
        dict(
            val_dataloader=dict(
                dataset=dict(
                    pipeline=[
                        dict(type='SampleFrames', clip_len=16, num_clips=4),
                        dict(type='CenterCrop', crop_size=112),
                        dict(type='FormatShape', input_format='NCTHW'),
                    ]
                )
            )
        )
    )
    assert cx.clip_input_shape(clips3d) == (1, 4, 3, 16, 112, 112)
    with pytest.raises(ValueError, match='SampleFrames'):
        cx.clip_input_shape(
            Config(
                dict(
                    val_dataloader=dict(
                        dataset=dict(
                            pipeline=[dict(type='CenterCrop', crop_size=112)]
                        )
                    )
                )
            )
        )


def test_clip_input_shape_of_the_test_split_and_fixed_resizes():
    """No crop: the fixed-size Resize (mmcv scale = (W, H)) gives the view;
    ``split='test'`` reads the test pipeline (one of its three crops)."""
    cfg = Config(
        dict(
            val_dataloader=dict(
                dataset=dict(
                    pipeline=[
                        dict(type='SampleFrames', clip_len=1, num_clips=8),
                        dict(type='Resize', scale=(-1, 64)),
                        dict(type='Resize', scale=(56, 48), keep_ratio=False),
                        dict(type='FormatShape', input_format='NCHW'),
                    ]
                )
            ),
            test_dataloader=dict(
                dataset=dict(
                    pipeline=[
                        dict(type='SampleFrames', clip_len=1, num_clips=16),
                        dict(type='Resize', scale=(-1, 256)),
                        dict(type='ThreeCrop', crop_size=256),
                        dict(type='FormatShape', input_format='NCHW'),
                    ]
                )
            ),
        )
    )
    assert cx.clip_input_shape(cfg) == (1, 8, 3, 48, 56)
    assert cx.clip_input_shape(cfg, split='test') == (1, 16, 3, 256, 256)
    res = cx.clip_complexity(r18(TSM_8F), size=32, split='test')
    assert res['input_shape'] == [1, 8, 3, 32, 32]
    full = cx.complexity(r18(TSM_8F), (1, 8, 3, 32, 32))
    assert res['gflops'] == full['total'] / 1e9
    assert res['params_m'] == full['params'] / 1e6


@pytest.mark.parametrize('window', [(5, 9, 9), (3, 7, 5)])
def test_selfy_correlation_counted_analytically(window):
    """The correlation is N*T*L*U*V*H'*W'*C multiply-adds on the block's
    128-channel, stride-2 map, mmengine sees none of the op's products, and
    the rest of the block is counted about as its official convs."""
    cfg = r18(
        SELFY_8F,
        blocks=[
            dict(
                cfg=dict(type='SELFYBlock', window=window),
                position='after_stage',
                layers=('layer2',),
            )
        ],
    )
    res = cx.complexity(cfg, (1, 8, 3, 64, 64))
    L, U, V = window
    # 64 px: layer2 8x8, the block's stride-2 reduction 4x4
    assert res['correlation'] == 8 * L * U * V * 4 * 4 * 128
    ops = res['analyzer'].by_operator()
    assert 'bmm' not in ops  # the correlation op's row products
    assert res['total'] == res['flops'] + res['correlation']
    # the block's count is the official architecture's conv MACs plus what
    # mmengine adds (BN, normalisation, and the extraction's first conv run
    # as a dense operator product): at most 15% more
    nt, hw, c = 8, 4 * 4, 128
    u1, v1 = (U - 1) // 2 + 1, (V - 1) // 2 + 1
    u2, v2 = (u1 - 1) // 2 + 1, (v1 - 1) // 2 + 1
    convs = (
        nt * hw * c * 128 * 9  # downsample (layer2 of R18: 128 channels)
        + nt
        * hw
        * L
        * (
            4 * 9 * U * V
            + 16 * 4 * 9 * u1 * v1
            + 64 * 16 * 9 * u2 * v2
            + 64 * 64 * u2 * v2
        )
        + nt * hw * L * 3 * 64 * 64 * 9  # integration conv0-2
        + nt * hw * 64 * L * 64 * 9  # conv3_fuse
        + nt * hw * 64 * 128
    )  # upsample, 1x1 on the 4x4 map
    block = res['analyzer'].by_module()[
        'recognizer.backbone.stage_blocks.layer2.0'
    ]
    assert convs <= block <= 1.15 * convs


def _count_by_layers(model, inputs):
    """Independent count from the layers' own shapes, by forward hooks (no
    tracing): conv = output elements x Cin/groups x kernel, linear = batch x
    in x out, inference BatchNorm with affine = 2 per element, adaptive
    average pool = 1 per input element (mmengine's rules; max-pool and the
    TSM shift cost 0). Returns {module name: count} for the leaves."""
    counts, handles = {}, []

    def hook(name):
        def count(module, args, out):
            x = args[0]
            if isinstance(module, nn.Conv2d):
                k = module.kernel_size[0] * module.kernel_size[1]
                n = out.numel() * module.in_channels // module.groups * k
            elif isinstance(module, nn.Linear):
                n = (
                    x.numel()
                    // module.in_features
                    * (module.in_features * module.out_features)
                )
            elif isinstance(module, nn.BatchNorm2d):
                assert not module.training and module.affine
                n = 2 * x.numel()
            elif isinstance(module, nn.AdaptiveAvgPool2d):
                n = x.numel()
            else:
                return
            counts[name] = counts.get(name, 0) + n

        return count

    for name, module in model.named_modules():
        if not list(module.children()):
            handles.append(module.register_forward_hook(hook(name)))
    with torch.no_grad():
        model.extract_feat(inputs, stage='head')
    for handle in handles:
        handle.remove()
    return counts


def test_tsm_count_is_backbone_plus_head_by_an_independent_count():
    """TSM-R18, 8 x 64 x 64, 174 classes: the tool's FLOPs equal a count of
    every layer from its shapes, backbone and head; the head is its pool
    and FC (8 x 512 x 2 x 2 + 8 x 512 x 174). MMAction2's own get_flops
    (``get_model_complexity_info`` on ``extract_feat``) counts exactly the
    backbone's part, and both count the head's parameters."""
    cfg = r18(TSM_8F)
    res = cx.complexity(cfg, (1, 8, 3, 64, 64))
    assert res['correlation'] == 0
    model = cx.build_model(cfg)
    counts = _count_by_layers(model, torch.randn(1, 8, 3, 64, 64))
    backbone = sum(v for k, v in counts.items() if k.startswith('backbone.'))
    head = sum(v for k, v in counts.items() if k.startswith('cls_head.'))
    assert head == 8 * 512 * 2 * 2 + 8 * 512 * 174
    assert backbone + head == sum(counts.values())
    assert res['flops'] == backbone + head
    params = sum(p.numel() for p in model.backbone.parameters())
    assert res['params'] == params + 512 * 174 + 174
    # what MMAction2's tools/analysis_tools/cx.py runs
    model.forward = model.extract_feat
    stock = get_model_complexity_info(
        model, input_shape=(8, 3, 64, 64), show_table=False, show_arch=False
    )
    assert stock['flops'] == backbone
    assert stock['params'] == res['params']


def test_selfy_tsm_r50_8f_by_an_independent_count():
    """SELFYNet-TSM-R50, 8 x 224 x 224, 174 classes: the correlation is the
    analytic 8 x (5 x 9 x 9) x 14 x 14 x 128; every ResNet layer outside the
    SELFY block is counted exactly as the layer-by-layer count of the same
    model; the parameters are the model's own tensor sizes (backbone +
    head)."""
    cfg = Config.fromfile(SELFY_8F)
    res = cx.complexity(cfg)
    assert res['input_shape'] == (1, 8, 3, 224, 224)
    assert res['correlation'] == 8 * 405 * 196 * 128
    assert res['total'] == res['flops'] + res['correlation']
    model = cx.build_model(cfg)
    counts = _count_by_layers(model, torch.randn(*res['input_shape']))
    block = 'backbone.stage_blocks.'
    outside = {k: v for k, v in counts.items() if not k.startswith(block)}
    by_module = res['analyzer'].by_module()
    inside = sum(
        v
        for k, v in by_module.items()
        if k.startswith('recognizer.' + block) and k.count('.') == 4
    )
    assert res['flops'] - inside == sum(outside.values())
    assert res['params'] == sum(p.numel() for p in model.parameters())


def test_paper_entries_match_config_names():
    entry = cx.paper_entry(SELFY_8F, Config.fromfile(SELFY_8F))
    assert entry['gflops'] == 37
    window9 = SELFY_8F.replace('r50_', 'r50-window9x9x9_').replace(
        '1x1x8', '1x1x16'
    )
    assert cx.paper_entry(window9, Config.fromfile(window9))['gflops'] == 77
    assert cx.paper_entry(TSM_8F, Config.fromfile(TSM_8F))['gflops'] == 33
    assert (
        cx.paper_entry('/x/unknownnet_r50.py', Config.fromfile(TSM_8F)) is None
    )
    # the papers' numbers are ResNet-50 ones
    assert (
        cx.paper_entry(
            '/x/tsm_r18_1x1x8-4e_motion-rgb.py', Config.fromfile(TSM_8F)
        )
        is None
    )
