# TSM-R50 baseline, 16 frames, Something-Something V1: the settings of
# configs/selfy/selfy_imagenet-pretrained-r50_8xb8-1x1x16-50e_sthv1-rgb.py
# without the SELFY block (official SELFY recipe, not MMAction2's TSM
# schedule).
_base_ = [
    '../_base_/models/tsm_r50_16f.py',
    '../_base_/datasets/sthv1_rgb_16f.py',
    '../_base_/selfy_recipe.py',
]

model = dict(cls_head=dict(num_classes=174))
