# ECA-TSM-R50 (ECA: Wang et al., "ECA-Net: Efficient Channel Attention for
# Deep Convolutional Neural Networks", CVPR 2020), 8 frames,
# Something-Something V1. MMAction2's TSM-R50 with ECA after the last BN of
# every bottleneck (before the residual add), kernel sizes of the released
# ECA-R50 (3, 5, 5, 7) in res2..res5: 80 extra parameters. ECA has no
# temporal modelling of its own; TSM's shift provides it.
# Official SELFY recipe (shared SSv1 data base and SGD 50e schedule): the
# TSM baseline with identical settings is
# configs/tsm/tsm_imagenet-pretrained-r50_8xb8-1x1x8-50e_sthv1-rgb.py.
# the TSM-R50 SSv1 baseline (data, recipe, head; 8 segments in backbone
# and head) with the block(s) below
_base_ = '../_base_/r50_blocks_sthv1.py'

model = dict(
    backbone=dict(
        # one entry per stage: in_channels is filled in by the backbone;
        # kernel_size=None would use the paper's adaptive rule (5, 5, 5, 7)
        blocks=[
            dict(
                cfg=dict(type='ECA', kernel_size=kernel_size),
                position='after_conv3',
                layers=(layer,),
            )
            for layer, kernel_size in (
                ('layer1', 3),
                ('layer2', 5),
                ('layer3', 5),
                ('layer4', 7),
            )
        ],
    ),
)
