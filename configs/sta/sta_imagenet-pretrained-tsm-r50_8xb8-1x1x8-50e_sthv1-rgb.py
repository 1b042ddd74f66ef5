# STA-TSM-R50 ("MSTAT-inspired" spatial-temporal aggregation, after Tang et
# al., IEEE TMM 2023), 8 frames, Something-Something V1: MMAction2's TSM-R50
# with one STABlock after res4 (`layer3`, 1024 channels, 14x14 maps at 224
# px) and one after res5 (`layer4`, 2048 channels, 7x7): projection to C/4,
# spatial self-attention per frame, temporal self-attention per position,
# zero-initialised projection back (the ImageNet TSM starts unchanged).
# Placement, reduction and heads are ours (MSTAT has no public code).
# Official SELFY recipe (shared SSv1 data base and SGD 50e schedule, MMEngine's
# default optimiser constructor: TSMOptimWrapperConstructor rejects the
# LayerNorm layers); the TSM baseline with identical settings is
# configs/tsm/tsm_imagenet-pretrained-r50_8xb8-1x1x8-50e_sthv1-rgb.py.
_base_ = [
    '../_base_/models/tsm_r50.py',
    '../_base_/datasets/sthv1_rgb_8f.py',
    '../_base_/schedules/selfy_sgd_50e.py',
    '../_base_/default_runtime.py',
]

custom_imports = dict(imports=['selfy_mmaction'], allow_failed_imports=False)
default_scope = 'mmaction'
default_hooks = dict(checkpoint=dict(max_keep_ckpts=3))

model = dict(
    backbone=dict(
        type='ResNetTSMWithBlocks',
        num_segments=8,
        # in_channels and num_segments are filled in by the backbone
        blocks=[
            dict(
                cfg=dict(type='STABlock', reduction=4, num_heads=8),
                position='after_stage',
                layers=('layer3', 'layer4'),
            ),
        ],
    ),
    cls_head=dict(num_classes=174, num_segments=8),
)
