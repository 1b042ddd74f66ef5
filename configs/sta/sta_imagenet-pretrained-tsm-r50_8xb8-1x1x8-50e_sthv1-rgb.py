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
# the TSM-R50 SSv1 baseline (data, recipe, head; 8 segments in backbone
# and head) with the block(s) below
_base_ = '../_base_/r50_blocks_sthv1.py'

custom_imports = dict(imports=['selfy_mmaction'], allow_failed_imports=False)
default_scope = 'mmaction'

model = dict(
    backbone=dict(
        # in_channels and num_segments are filled in by the backbone
        blocks=[
            dict(
                cfg=dict(type='STABlock', reduction=4, num_heads=8),
                position='after_stage',
                layers=('layer3', 'layer4'),
            ),
        ],
    ),
)
