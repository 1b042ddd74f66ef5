# (2+1)D-ResNet-50 in the 2D recipe (R(2+1)D: Tran et al., CVPR 2018),
# 8 frames, Something-Something V1. ImageNet ResNet-50 (no shift) whose 3x3
# conv2 in all 16 bottlenecks is followed (after its BN and ReLU) by a full
# 3x1x1 temporal conv on the (N, C, T, H, W) view, initialised as the
# identity: the network starts as the ImageNet ResNet-50 exactly
# (selfy_mmaction/models/blocks/r2plus1d.py). MMAction2's own ResNet2Plus1d
# cannot load ImageNet 2D weights (pretrained2d=False), hence this form.
# Official SELFY recipe (shared SSv1 data base and SGD 50e schedule).
# the TSM-R50 SSv1 baseline (data, recipe, head; 8 segments in backbone
# and head) with the block(s) below
_base_ = '../_base_/r50_blocks_sthv1.py'

model = dict(
    backbone=dict(
        type='ResNetWithBlocks',
        blocks=[
            dict(
                cfg=dict(type='R2Plus1DConv'),
                position='wrap_conv2',
                layers=('layer1', 'layer2', 'layer3', 'layer4'),
            )
        ],
    ),
)
