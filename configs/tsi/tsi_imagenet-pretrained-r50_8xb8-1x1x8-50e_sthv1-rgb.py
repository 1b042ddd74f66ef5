# TSI (Su et al., "TSI: Temporal Saliency Integration for Video Action
# Recognition", arXiv 2106.01088), 8 frames, Something-Something V1.
# No public code and the paper was not read: SME and CTI are designed from
# the abstract; every open choice is listed in
# selfy_mmaction/models/blocks/tsi.py. A plain ImageNet ResNet-50 (no TSM
# shift: CTI is the temporal model) with, in all 16 bottlenecks, SME after
# conv1 and CTI around the 3x3 conv; the network is the ImageNet ResNet-50 at
# init (zero excitation BN, identity temporal branches).
# Trained with the official SELFY recipe (shared SSv1 data base and SGD 50e
# schedule) so that it compares with SELFY/TSM under identical settings.
# the TSM-R50 SSv1 baseline (data, recipe, head; 8 segments in backbone
# and head) with the block(s) below
_base_ = '../_base_/r50_blocks_sthv1.py'

model = dict(
    backbone=dict(
        type='ResNetWithBlocks',  # plain ResNet-50, ImageNet weights
        # in_channels, num_segments and `net` are filled in by the backbone
        blocks=[
            dict(
                cfg=dict(
                    type='TSIMotionExcitation',
                    reduction=16,
                    align_window=3,
                    align_scale=10.0,
                    scales=(1, 2, 4),
                ),
                position='after_conv1',
                layers=('layer1', 'layer2', 'layer3', 'layer4'),
            ),
            dict(
                cfg=dict(
                    type='TSITemporalIntegration',
                    branches=((3, 1), (3, 2), (3, 3)),
                    reduction=16,
                    min_hidden=32,
                ),
                position='wrap_conv2',
                layers=('layer1', 'layer2', 'layer3', 'layer4'),
            ),
        ],
    ),
)
