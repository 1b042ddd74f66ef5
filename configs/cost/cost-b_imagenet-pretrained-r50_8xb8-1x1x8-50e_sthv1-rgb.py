# CoST(b)-R50 (Li, Zhong, Xie, Pu, "Collaborative Spatiotemporal Feature
# Learning for Video Action Recognition", CVPR 2019) in the 2D recipe,
# 8 frames, Something-Something V1. ImageNet ResNet-50 (no shift) whose 3x3
# conv2 in the 8 bottlenecks of the authors' inflate pattern convolves the
# H-W, T-W and T-H views of the (N, C, T, H, W) volume with its one shared
# ImageNet kernel; T = 8 in every stage (no temporal pooling).
# CoST(b): per-sample view coefficients from the max-pooled views (FC
# C_out->C_out shared by the views, FC 3->3 across views, softmax).
# The authors' own form (Recognizer3D, ResNet3dCoST) is
# cost-b_imagenet-pretrained-r50-3d_8xb8-8x1x1-50e_sthv1-rgb.py.
# Everything else as the CoST(a) config it inherits.
_base_ = './cost-a_imagenet-pretrained-r50_8xb8-1x1x8-50e_sthv1-rgb.py'

# the CoST(a) config's entry with variant 'b'
model = dict(
    backbone=dict(
        blocks=[
            dict(block, cfg=dict(block.cfg, variant='b'))
            for block in _base_.model.backbone.blocks
        ]
    )
)
