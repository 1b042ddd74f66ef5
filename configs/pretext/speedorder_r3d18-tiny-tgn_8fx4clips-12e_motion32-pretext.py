# Playback-speed pretext pretraining (no labels) on the training videos of
# the 32-frame motion dataset: 4 clips of 8 frames per video at speeds 1x,
# 2x, 4x and reversed 1x, random starts, shown in a random order; the tiny
# R3D-18 (TemporalGroupNorm) of the recognition configs and SpeedOrderHead
# classify the order (24 classes, chance 1/24). Validation: pretext accuracy
# on the validation videos (test_mode: repeatable clips per video).
_base_ = ['./r3d18-tiny-tgn_1x8x2-15e_motion32-rgb.py']

speeds = (1, 2, 4, -1)
num_clips = 4
model = dict(
    cls_head=dict(
        _delete_=True,
        type='SpeedOrderHead',
        in_channels=8 * _base_.base_channels,
        num_clips=num_clips,
        hidden_channels=128,
        dropout_ratio=0.5,
        init_std=0.01,
        average_clips='prob',
    )
)

# The crop and flip are shared by the 4 clips (the speed is unchanged by
# them); the video's class label is replaced by the order label.
train_pipeline = [
    dict(type='DecordInit'),
    dict(
        type='PlaybackSpeedSampleFrames',
        clip_len=_base_.clip_len,
        speeds=speeds,
        num_clips=num_clips,
        out_of_bound_opt='skip',
    ),
    dict(type='DecordDecode'),
    dict(
        type='RandomResizedCrop',
        area_range=(0.7, 1.0),
        aspect_ratio_range=(0.85, 1.18),
    ),
    dict(
        type='Resize',
        scale=(_base_.img_size, _base_.img_size),
        keep_ratio=False,
    ),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
# validation: the training steps without the random crop and flip, in test
# mode, and an error (no other video) when a video is too short
val_pipeline = [
    dict(step, out_of_bound_opt='error', test_mode=True)
    if step['type'] == 'PlaybackSpeedSampleFrames'
    else step
    for step in train_pipeline
    if step['type'] not in ('RandomResizedCrop', 'Flip')
]
# every epoch visits each training video 4 times (new clips each time)
train_dataloader = dict(
    batch_size=8,
    dataset=dict(
        _delete_=True,
        type='RepeatDataset',
        times=4,
        dataset=dict(
            type=_base_.dataset_type,
            ann_file=_base_.ann_file_train,
            spec=_base_.motion_spec,
            data_prefix=dict(video=_base_.data_root),
            pipeline=train_pipeline,
        ),
    ),
)
val_dataloader = dict(batch_size=8, dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader

max_epochs = 12
train_cfg = dict(max_epochs=max_epochs, val_interval=5)
# the recognition schedule's warm-up and cosine decay over the 12 epochs
param_scheduler = [
    dict(step, T_max=max_epochs, end=max_epochs)
    if step.type == 'CosineAnnealingLR'
    else step
    for step in _base_.param_scheduler
]
auto_scale_lr = dict(enable=False, base_batch_size=8)
