# TAda2D on ResNet-18 (no shift, from scratch) on the embedded motion dataset
# (48 px, 8 frames); the matching baseline is
# configs/tsn/tsn_r18_1x1x8-4e_motion-rgb.py. ResNet-18's BasicBlock has
# no bottleneck: TAda wraps its first 3x3 conv (conv + BN + ReLU; conv2 has
# no ReLU). The stem keeps its max-pool (`stem_pool=False` needs
# bottlenecks).
_base_ = ['../tsm/tsm_r18_1x1x8-4e_motion-rgb.py']

model = dict(
    backbone=dict(
        type='ResNetWithBlocks',
        blocks=[
            dict(
                cfg=dict(type='TAda2DBlock'),
                position='wrap_conv1',
                layers=('layer1', 'layer2', 'layer3', 'layer4'),
            )
        ],
    )
)
