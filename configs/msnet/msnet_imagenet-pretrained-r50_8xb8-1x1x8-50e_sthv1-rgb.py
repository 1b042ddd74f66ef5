# MSNet (Kwon et al., "MotionSqueeze: Neural Motion Feature Learning for
# Video Understanding", ECCV 2020), 8 frames, Something-Something V1.
# MMAction2's TSM-R50 (shift in every bottleneck, shift_div 8) with one
# MotionSqueeze module after res3 (`layer2`): 64-channel matching over a
# 15x15 window, kernel soft-argmax (sigma 5, temperature 100), separable
# refinement back to 512 channels, added to the res3 output.
# 33.32 GFLOPs (convolutions, mmengine) + 0.08 G correlation (analytic) and
# 23.58 M parameters per 8x224x224 clip (backbone). TSN sampling.
# Trained with the official SELFY recipe (shared SSv1 data base and SGD 50e
# schedule); the MSNet authors' released scripts are for ResNet-18.
# the TSM-R50 SSv1 baseline (data, recipe, head; 8 segments in backbone
# and head) with the block(s) below
_base_ = '../_base_/r50_blocks_sthv1.py'

model = dict(
    backbone=dict(
        # in_channels (512 after layer2) and num_segments are filled in by
        # the backbone
        blocks=[
            dict(
                cfg=dict(
                    type='MotionSqueezeBlock',
                    reduced_channels=64,
                    radius=7,
                    sigma=5.0,
                    temperature=100.0,
                ),
                position='after_stage',
                layers=('layer2',),
            )
        ],
    ),
)
