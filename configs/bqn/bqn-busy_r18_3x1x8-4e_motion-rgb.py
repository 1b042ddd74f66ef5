# BQN's busy network on TSM-ResNet-18 (from scratch) on the embedded motion
# dataset (64 px, 8 segments of 3 consecutive frames; frames past the end
# repeat the last one): the input Motion Band-Pass Module before conv1. The
# matching baseline is configs/tsm/tsm_r18_1x1x8-4e_motion-rgb.py.
_base_ = ['../tsm/tsm_r18_1x1x8-4e_motion-rgb.py']

model = dict(
    backbone=dict(type='BusyResNetTSM'),
    cls_head=dict(type='TDNHead', snippet_len=3))

snippet_sampling = dict(
    type='SampleFrames',
    clip_len=3,
    frame_interval=1,
    num_clips=8,
    out_of_bound_opt='repeat_last')
train_pipeline = [
    dict(type='DecordInit'),
    snippet_sampling,
    dict(type='DecordDecode'),
    dict(type='RandomResizedCrop', area_range=(0.7, 1.0),
         aspect_ratio_range=(0.85, 1.18)),
    dict(type='Resize', scale=(64, 64), keep_ratio=False),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='DecordInit'),
    dict(**snippet_sampling, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(64, 64), keep_ratio=False),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
test_pipeline = val_pipeline

train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
