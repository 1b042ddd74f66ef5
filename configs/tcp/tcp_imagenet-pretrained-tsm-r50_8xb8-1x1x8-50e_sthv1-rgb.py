# TCP on TSM-ResNet-50, 8 frames, Something-Something V1: the TSM baseline
# (configs/tsm/tsm_imagenet-pretrained-r50_8xb8-1x1x8-50e_sthv1-rgb.py) with a
# stride-1 last stage and TCPHead instead of TSMHead (see the TSN-TCP config
# for the head).
_base_ = [
    '../_base_/models/tsm_r50.py',
    '../_base_/datasets/sthv1_rgb_8f.py',
    '../_base_/tcp_recipe.py',
]

num_segments = 8
model = dict(
    backbone=dict(num_segments=num_segments, strides=(1, 2, 2, 1)),
    cls_head=dict(_base_.tcp_head, _delete_=True),
)
