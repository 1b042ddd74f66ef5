# TAda2D (Huang et al., "TAda! Temporally-Adaptive Convolutions for Video
# Understanding", ICLR 2022), 8 frames, Something-Something V1.
# ImageNet ResNet-50 without the stem's max-pool (the first res2 bottleneck
# strides instead, `stem_pool=False`); every bottleneck's 3x3 conv becomes a
# TAdaConv2d (frame-wise calibrated ImageNet weights) + temporal feature
# aggregation. At init the network equals the ImageNet ResNet-50.
# 33.23 GFLOPs at 224x224 (43.40 at 256x256, the paper's count) and 26.67 M
# parameters per 8-frame clip (backbone). TSN sampling.
# Trained with the official SELFY recipe (shared SSv1 data base and SGD 50e
# schedule); the TAda authors' recipe differs (lr 0.48 @ 128, cosine 64
# epochs, warm-up, test 2 clips x 3 crops at 256) and has no SSv1 setting.
# the TSM-R50 SSv1 baseline (data, recipe, head; 8 segments in backbone
# and head) with the block(s) below
_base_ = '../_base_/r50_blocks_sthv1.py'

model = dict(
    backbone=dict(
        type='ResNetWithBlocks',  # plain ResNet-50, ImageNet weights
        stem_pool=False,
        blocks=[
            dict(
                cfg=dict(
                    type='TAda2DBlock',
                    route_reduction=4,
                    route_kernel_sizes=(3, 3),
                    pool_kernel_size=3,
                ),
                position='wrap_conv2',
                layers=('layer1', 'layer2', 'layer3', 'layer4'),
            )
        ],
    ),
)
