# TSN-ResNet-18 (no temporal shift: order-invariant) on the motion dataset.
_base_ = ['../tsm/tsm_r18_1x1x8-4e_motion-rgb.py']

model = dict(backbone=dict(is_shift=False))
