# ECA-TSM-ResNet-18 on the embedded motion dataset (from scratch, 48 px,
# 8 frames): the TSM-R18 motion config with ECA after the last BN (bn2) of
# every basic block, kernel sizes of the paper's adaptive rule for 64, 128,
# 256, 512 channels (3, 5, 5, 5).
_base_ = ['../tsm/tsm_r18_1x1x8-4e_motion-rgb.py']

model = dict(
    backbone=dict(
        blocks=[
            dict(
                cfg=dict(type='ECA', kernel_size=3),
                position='after_conv2',
                layers=('layer1',),
            ),
            dict(
                cfg=dict(type='ECA', kernel_size=5),
                position='after_conv2',
                layers=('layer2', 'layer3', 'layer4'),
            ),
        ]
    )
)
