# SELFYNet-TSM-R50 (SELFY, ICCV 2021), 8 frames, FineGym Gym99.
# One SELFY block after res3, window (L, U, V) = (5, 9, 9).
# Official SELFY training recipe; the TSM baseline with identical settings
# is configs/tsm/tsm_imagenet-pretrained-r50_8xb8-1x1x8-50e_gym99-rgb.py.
_base_ = [
    '../_base_/models/selfy_tsm_r50.py',
    '../_base_/datasets/gym99_rgb_8f.py',
    '../_base_/selfy_recipe.py',
]

model = dict(cls_head=dict(num_classes=99))
