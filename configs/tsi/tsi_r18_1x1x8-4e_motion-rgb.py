# TSI on ResNet-18 (no shift, from scratch) on the embedded motion dataset
# (48 px, 8 frames); the matching baseline is
# configs/tsn/tsn_r18_1x1x8-4e_motion-rgb.py. In a BasicBlock SME runs on
# the output of the first 3x3 conv and CTI wraps the second one.
_base_ = ['../tsm/tsm_r18_1x1x8-4e_motion-rgb.py']

model = dict(
    backbone=dict(
        type='ResNetWithBlocks',
        blocks=[
            dict(
                cfg=dict(type='TSIMotionExcitation'),
                position='after_conv1',
                layers=('layer1', 'layer2', 'layer3', 'layer4'),
            ),
            dict(
                cfg=dict(type='TSITemporalIntegration'),
                position='wrap_conv2',
                layers=('layer1', 'layer2', 'layer3', 'layer4'),
            ),
        ],
    )
)
