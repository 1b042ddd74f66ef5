# R(2+1)D-18 (Tran et al., "A Closer Look at Spatiotemporal Convolutions for
# Action Recognition", CVPR 2018) on the embedded motion dataset, from
# scratch, 64 px: MMAction2's own ResNet2Plus1d / Conv2plus1d / Recognizer3D /
# I3DHead (its r2plus1d_r34 base with depth 18), one 8-frame clip sampled
# uniformly over the video (UniformSample: one frame from each of 8 equal
# segments, as the 1x1x8 TSN sampling of the 2D models; the name keeps the
# motion benchmark's pattern). BN3d instead of SyncBN (single process).
# T in res2..res5: 8, 4, 2, 1 (temporal strides 1, 2, 2, 2).
_base_ = ['mmaction::_base_/models/r2plus1d_r34.py', '../_base_/motion.py']

model = dict(
    backbone=dict(
        depth=18, norm_cfg=dict(type='BN3d', requires_grad=True, eps=1e-3)
    ),
    cls_head=dict(num_classes=8, dropout_ratio=0.3),
)

# No flip: a horizontal flip turns 'move_right' into 'move_left'.
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='UniformSample', clip_len=8),
    dict(type='DecordDecode'),
    dict(
        type='RandomResizedCrop',
        area_range=(0.7, 1.0),
        aspect_ratio_range=(0.85, 1.18),
    ),
    dict(type='Resize', scale=(64, 64), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='DecordInit'),
    dict(type='UniformSample', clip_len=8, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(64, 64), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
test_pipeline = val_pipeline
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
