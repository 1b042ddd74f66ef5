# TEA (Li et al., "TEA: Temporal Excitation and Aggregation for Action
# Recognition", CVPR 2020), 8 frames, Something-Something V1.
# Backbone: Res2Net-50 26w x 4s whose 16 bottlenecks all carry TEA's motion
# excitation (ME) and multiple temporal aggregation (MTA): 34.74 GFLOPs and
# 24.10 M parameters per 8x224x224 clip (backbone). TSN sampling, one frame
# per segment, as the official code.
# Trained with the official SELFY recipe (shared SSv1 data base and SGD 50e
# schedule) so that it compares with SELFY/TSM under identical settings; the
# TEA authors' recipe differs (lr 0.02 at batch 64, steps 30/40/45).
# the TSM-R50 SSv1 baseline (data, recipe, head; 8 segments in backbone
# and head) with the block(s) below
_base_ = '../_base_/r50_blocks_sthv1.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='TEARes2Net',
        depth=50,
        num_segments=8,
        base_width=26,
        scale=4,
        me_reduction=16,
        # ImageNet Res2Net-50 26w4s of the Res2Net authors (official key
        # format), res2net50_26w_4s-06e79181.pth; put it here, or set None to
        # train from scratch.
        pretrained='checkpoints/res2net50_26w_4s-06e79181.pth',
        norm_eval=False,
    ),
)
