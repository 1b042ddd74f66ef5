# TCP on TSN-ResNet-50, 16 frames, Something-Something V1: the 8-frame config
# with the 16-frame data base (the temporal conv kernel becomes 9).
_base_ = [
    'mmaction::_base_/models/tsn_r50.py',
    '../_base_/datasets/sthv1_rgb_16f.py',
    '../_base_/tcp_recipe.py',
]

num_segments = 16
model = dict(
    backbone=dict(strides=(1, 2, 2, 1)),
    cls_head=dict(_base_.tcp_head, _delete_=True, num_segments=num_segments),
)
