# SELFYNet-TSM-R50 (SELFY, ICCV 2021), 16 frames, Something-Something V1.
# One SELFY block after res3, window (L, U, V) = (9, 9, 9):
# the temporal window whose cost matches the paper's 16-frame 77 GFLOPs
# (docs/paper_numbers.md; the released code uses (5, 9, 9)).
# Official SELFY training recipe; the TSM baseline with identical settings
# is configs/tsm/tsm_imagenet-pretrained-r50_8xb8-1x1x16-50e_sthv1-rgb.py.
_base_ = [
    '../_base_/models/selfy_tsm_r50.py',
    '../_base_/datasets/sthv1_rgb_16f.py',
    '../_base_/selfy_recipe.py'
]

model = dict(
    backbone=dict(
        num_segments=16,
        blocks=[
            dict(
                cfg=dict(type='SELFYBlock', window=(9, 9, 9)),
                position='after_stage',
                layers=('layer2', ))
        ]),
    cls_head=dict(num_segments=16))
