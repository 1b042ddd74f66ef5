# TCP on TSM-ResNet-18 from scratch, embedded motion dataset (48 px, 8
# frames): the TSM-R18 motion config with a stride-1 last stage (4x4 maps)
# and TCPHead reducing 512 -> 128 -> 64 (64x64 covariance over the 8x4x4
# positions of the clip, 2080-d fc input). The head trains at lr x5, as in
# the TCP recipe.
_base_ = [
    '../tsm/tsm_r18_1x1x8-4e_motion-rgb.py',
    '../_base_/models/tcp_head.py',
]

model = dict(
    backbone=dict(strides=(1, 2, 2, 1)),
    # the R50 configs' TCPHead at the R18 width, the motion classes and
    # dropout
    cls_head=dict(
        _base_.tcp_head,
        _delete_=True,
        num_classes=8,
        in_channels=512,
        reduce_channels=(128, 64),
        dropout_ratio=0.3,
    ),
)

optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'cls_head': dict(lr_mult=5)})
)
