# CoST(a)-R50 (Li, Zhong, Xie, Pu, "Collaborative Spatiotemporal Feature
# Learning for Video Action Recognition", CVPR 2019) in the 2D recipe,
# 8 frames, Something-Something V1. ImageNet ResNet-50 (no shift) whose 3x3
# conv2 in the 8 bottlenecks of the authors' inflate pattern convolves the
# H-W, T-W and T-H views of the (N, C, T, H, W) volume with its one shared
# ImageNet kernel; T = 8 in every stage (no temporal pooling).
# CoST(a): view coefficients = softmax over views of a learned (3, C_out)
# parameter, initialised 0.7 (H-W) / -0.7 (T-W, T-H).
# The authors' own form (Recognizer3D, ResNet3dCoST) is
# cost-b_imagenet-pretrained-r50-3d_8xb8-8x1x1-50e_sthv1-rgb.py.
# Official SELFY recipe (shared SSv1 data base and SGD 50e schedule).
# the TSM-R50 SSv1 baseline (data, recipe, head; 8 segments in backbone
# and head) with the block(s) below
_base_ = '../_base_/r50_blocks_sthv1.py'

model = dict(
    backbone=dict(
        type='ResNetWithBlocks',
        blocks=[
            dict(
                cfg=dict(type='CoSTConv', variant='a'),
                position='wrap_conv2',
                layers=('layer1', 'layer2', 'layer3', 'layer4'),
                # the authors' inflate pattern (COST_INDICES_R50)
                indices=(
                    (0, 1, 0),
                    (1, 0, 1, 0),
                    (1, 0, 1, 0, 1, 0),
                    (1, 0, 1),
                ),
            )
        ],
    ),
)
