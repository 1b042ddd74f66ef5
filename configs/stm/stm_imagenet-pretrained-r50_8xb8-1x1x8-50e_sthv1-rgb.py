# STM (Jiang et al., "STM: SpatioTemporal and Motion Encoding for Action
# Recognition", ICCV 2019), 8 frames, Something-Something V1.
# A plain ImageNet ResNet-50 (no temporal shift) whose 16 bottlenecks all
# replace their 3x3 conv by an STM block: CSTM (shift-initialised learnable
# temporal conv + the ImageNet 3x3 conv) + CMM (feature-level temporal
# difference). 33.25 GFLOPs and 23.68 M parameters per 8x224x224 clip
# (backbone). TSN sampling, one frame per segment.
# Trained with the official SELFY recipe (shared SSv1 data base and SGD 50e
# schedule) so that it compares with SELFY/TSM under identical settings; STM
# has no official code or recipe. The paper's SSv1 numbers are 30-view
# (10 clips x 3 crops) results, this config tests 1 clip x 1 centre crop.
# the TSM-R50 SSv1 baseline (data, recipe, head; 8 segments in backbone
# and head) with the block(s) below
_base_ = '../_base_/r50_blocks_sthv1.py'

model = dict(
    backbone=dict(
        type='ResNetWithBlocks',  # plain ResNet-50, ImageNet weights
        # `net` (the 3x3 ConvModule) and num_segments are filled in by the
        # backbone
        blocks=[
            dict(
                cfg=dict(type='STMBlock', reduction=16),
                position='wrap_conv2',
                layers=('layer1', 'layer2', 'layer3', 'layer4'),
            )
        ],
    ),
)
