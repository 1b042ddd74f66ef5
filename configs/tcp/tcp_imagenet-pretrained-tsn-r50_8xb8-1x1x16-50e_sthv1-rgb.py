# TCP on TSN-ResNet-50, 16 frames, Something-Something V1: the 8-frame config
# with the 16-frame data base (the temporal conv kernel becomes 9).
_base_ = [
    'mmaction::_base_/models/tsn_r50.py',
    '../_base_/datasets/sthv1_rgb_16f.py',
    '../_base_/selfy_recipe.py'
]

num_segments = 16
model = dict(
    backbone=dict(strides=(1, 2, 2, 1)),
    cls_head=dict(
        _delete_=True,
        type='TCPHead',
        num_classes=174,
        in_channels=2048,
        num_segments=num_segments,
        reduce_channels=(256, 128),
        level='video',
        num_iters=3,
        dropout_ratio=0.5,
        init_std=0.001,
        average_clips='prob'))

optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'cls_head': dict(lr_mult=5)}))
