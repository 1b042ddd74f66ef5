# TSM-R50 baseline, 8 frames, Something-Something V2: the settings of
# configs/selfy/selfy_imagenet-pretrained-r50_8xb8-1x1x8-50e_sthv2-rgb.py
# without the SELFY block (official SELFY recipe, not MMAction2's TSM
# schedule).
_base_ = [
    '../_base_/models/tsm_r50.py',
    '../_base_/datasets/sthv2_rgb_8f.py',
    '../_base_/schedules/selfy_sgd_50e.py',
    '../_base_/default_runtime.py'
]

custom_imports = dict(imports=['selfy_mmaction'], allow_failed_imports=False)
default_scope = 'mmaction'
default_hooks = dict(checkpoint=dict(max_keep_ckpts=3))

model = dict(cls_head=dict(num_classes=174))
