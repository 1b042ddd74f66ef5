# STM on ResNet-18 (no shift, from scratch) on the embedded motion dataset
# (48 px, 8 frames); the matching baseline is
# configs/tsn/tsn_r18_1x1x8-4e_motion-rgb.py. ResNet-18's BasicBlock has
# no bottleneck: STM wraps its first 3x3 conv (conv + BN + ReLU, strided in
# the first block of a stage), the analogue of the bottleneck's 3x3 conv.
_base_ = ['../tsm/tsm_r18_1x1x8-4e_motion-rgb.py']

model = dict(
    backbone=dict(
        type='ResNetWithBlocks',
        blocks=[
            dict(
                cfg=dict(type='STMBlock', reduction=16),
                position='wrap_conv1',
                layers=('layer1', 'layer2', 'layer3', 'layer4'),
            )
        ],
    )
)
