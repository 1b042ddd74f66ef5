# P3D-R50 (Qiu, Yao, Mei, "Learning Spatio-Temporal Representation with
# Pseudo-3D Residual Networks", ICCV 2017) in the 2D recipe, 8 frames,
# Something-Something V1. ImageNet ResNet-50 (no shift) whose 3x3 conv2 in
# res2-res4 becomes a P3D block cycling A, B, C (2a A, 2b B, 2c C, 3a A,
# ...; res5 stays 2D), with a full 3x1x1 temporal conv T run on the
# (N, C, T, H, W) view; T = 8 in every stage (no temporal pooling).
# Initialised so that the network starts as the ImageNet ResNet-50 exactly
# (A: identity T, B/C: zero-gamma BN after T); see
# selfy_mmaction/models/blocks/p3d.py.
# Official SELFY recipe (shared SSv1 data base and SGD 50e schedule).
# the TSM-R50 SSv1 baseline (data, recipe, head; 8 segments in backbone
# and head) with the block(s) below
_base_ = '../_base_/r50_blocks_sthv1.py'

# the A -> B -> C cycle over the 13 bottlenecks of res2-res4
# (selfy_mmaction.models.blocks.p3d.p3d_blocks((3, 4, 6, 3)))
p3d_layers = ('layer1', 'layer2', 'layer3')
model = dict(
    backbone=dict(
        type='ResNetWithBlocks',
        # one entry per block type: the bottlenecks it replaces
        # (1 = this type), per stage
        blocks=[
            dict(
                cfg=dict(type='P3DBlock', block_type=block_type),
                position='wrap_conv2',
                layers=p3d_layers,
                indices=indices,
            )
            for block_type, indices in zip(
                'ABC',
                (
                    ((1, 0, 0), (1, 0, 0, 1), (0, 0, 1, 0, 0, 1), (0, 0, 0)),
                    ((0, 1, 0), (0, 1, 0, 0), (1, 0, 0, 1, 0, 0), (0, 0, 0)),
                    ((0, 0, 1), (0, 0, 1, 0), (0, 1, 0, 0, 1, 0), (0, 0, 0)),
                ),
            )
        ],
    ),
)
