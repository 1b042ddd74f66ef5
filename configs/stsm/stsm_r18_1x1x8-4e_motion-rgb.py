# STSM-ResNet-18 on the embedded motion dataset (from scratch, 48 px,
# 8 frames): the TSM-R18 motion config with TSM's shift replaced by the
# spatio-temporal shift (C/8 channels to t+1, C/8 to t-1, C/16 each to
# h+1, h-1, w+1, w-1) before conv1 of every basic block.
_base_ = ['../tsm/tsm_r18_1x1x8-4e_motion-rgb.py']

model = dict(
    backbone=dict(
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
    )
)
