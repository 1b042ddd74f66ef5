# R(2+1)D-18 with TemporalGroupNorm on UCF101 split 1, 16x1x1 clips at
# 112 px: MMAction2's C3D UCF101 data settings and schedule (45 epochs, steps
# 20/40) with the model replaced and lr 0.01 (the C3D recipe's 0.001 is for a
# supervised Sports-1M init). From scratch here; the speed-order pretrained
# variant only adds `load_from`.
_base_ = [
    'mmaction::recognition/c3d/'
    'c3d_sports1m-pretrained_8xb30-16x1x1-45e_ucf101-rgb.py'
]

custom_imports = dict(imports=['selfy_mmaction'], allow_failed_imports=False)
default_scope = 'mmaction'
# what configs/_base_/default_runtime.py selects (that base cannot be added
# beside the C3D config, which brings MMAction2's runtime itself)
runner_type = 'mmaction.CPUDistributedRunner'
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'))

# 4 temporal groups at width 64 (T=16 in the stem and res2), 2 in res3 (T=8),
# 1 from res4 on: 4 frames per group wherever there are groups.
backbone = dict(
    type='ResNet2Plus1d',
    depth=18,
    pretrained=None,
    pretrained2d=False,
    norm_eval=False,
    conv_cfg=dict(type='Conv2plus1d'),
    norm_cfg=dict(
        type='TemporalGroupNorm',
        num_groups=4,
        base_channels=64,
        requires_grad=True,
    ),
    conv1_kernel=(3, 7, 7),
    conv1_stride_t=1,
    pool1_stride_t=1,
    inflate=(1, 1, 1, 1),
    spatial_strides=(1, 2, 2, 2),
    temporal_strides=(1, 2, 2, 2),
    zero_init_residual=False,
)
# the C3D config's model with this backbone, its head averaging the 512
# channels and ImageNet input normalisation (no train_cfg/test_cfg)
model = dict(
    _delete_=True,
    type='Recognizer3D',
    backbone=backbone,
    cls_head=dict(_base_.model.cls_head, in_channels=512, spatial_type='avg'),
    data_preprocessor=dict(
        _base_.model.data_preprocessor,
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
    ),
)

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4),
    clip_grad=dict(max_norm=40, norm_type=2),
)
