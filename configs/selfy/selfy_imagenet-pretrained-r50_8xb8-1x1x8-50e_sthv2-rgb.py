# SELFYNet-TSM-R50 (SELFY, ICCV 2021), 8 frames, Something-Something V2.
# One SELFY block after res3, window (L, U, V) = (5, 9, 9).
# Official SELFY training recipe; the TSM baseline with identical settings
# is configs/tsm/tsm_imagenet-pretrained-r50_8xb8-1x1x8-50e_sthv2-rgb.py.
_base_ = [
    '../_base_/models/selfy_tsm_r50.py',
    '../_base_/datasets/sthv2_rgb_8f.py',
    '../_base_/selfy_recipe.py',
]
