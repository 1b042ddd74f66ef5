# TCP on TEA-Res2Net-50 (26w x 4s), 8 frames, Something-Something V1: the TEA
# config (configs/tea/) with a stride-1 last stage and TCPHead (see the
# TSN-TCP config for the head).
_base_ = [
    '../tea/tea_imagenet-pretrained-res2net50_8xb8-1x1x8-50e_sthv1-rgb.py',
    '../_base_/models/tcp_head.py',
]

num_segments = 8
model = dict(
    backbone=dict(num_segments=num_segments, strides=(1, 2, 2, 1)),
    cls_head=dict(_base_.tcp_head, _delete_=True),
)

optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'cls_head': dict(lr_mult=5)})
)
