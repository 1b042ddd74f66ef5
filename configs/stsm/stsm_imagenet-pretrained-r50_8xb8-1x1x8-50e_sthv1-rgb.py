# STSM-R50 (Yang, An, Zhang, "STSM: Spatio-Temporal Shift Module for
# Efficient Action Recognition", arXiv 2112.02523 / Mathematics 2022),
# 8 frames, Something-Something V1. ImageNet ResNet-50 whose every
# bottleneck shifts its input before conv1 (TSM's residual placement): C/8
# channels read t+1, C/8 read t-1 (TSM) and C/16 each read h+1, h-1, w+1,
# w-1; zero padding. No public code: group sizes, padding and placement are
# our choices (selfy_mmaction/models/blocks/stsm.py). No parameters and no
# FLOPs beyond the ResNet-50.
# Official SELFY recipe (shared SSv1 data base and SGD 50e schedule).
# the TSM-R50 SSv1 baseline (data, recipe, head; 8 segments in backbone
# and head) with the block(s) below
_base_ = '../_base_/r50_blocks_sthv1.py'

model = dict(
    backbone=dict(
        # STSM replaces TSM's own shift (which would also wrap conv1.conv)
        is_shift=False,
        blocks=[
            dict(
                cfg=dict(
                    type='SpatioTemporalShift', shift_div=8, spatial_div=16
                ),
                position='wrap_conv1',
                layers=('layer1', 'layer2', 'layer3', 'layer4'),
            )
        ],
    ),
)
