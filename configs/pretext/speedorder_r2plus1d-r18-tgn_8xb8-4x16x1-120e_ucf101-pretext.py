# Playback-speed pretext pretraining on the UCF101 split-1 training videos
# (their labels are replaced by the clip order): 4 clips of 16 frames at 1x,
# 2x, 4x and reversed 1x from random starts, shuffled; R(2+1)D-18 with
# TemporalGroupNorm (the recognition config's backbone) and SpeedOrderHead
# classify the order among 24. 112 px crops shared by the 4 clips.
# Schedule (ours; the paper's is not confirmed): SGD lr 0.01 at 8x8 samples,
# 120 epochs, cosine, 1 warm-up epoch.
# Short videos (4x needs 61 frames): training draws another video; the
# validation set runs with test_mode=False so that it does the same, while
# its clips stay repeatable per video (the transform's test_mode).
_base_ = ['./r2plus1d-r18-tgn_scratch_8xb30-16x1x1-45e_ucf101-rgb.py']

speeds = (1, 2, 4, -1)
num_clips = 4
clip_len = 16
model = dict(
    cls_head=dict(
        _delete_=True,
        type='SpeedOrderHead',
        in_channels=512,
        num_clips=num_clips,
        hidden_channels=512,
        dropout_ratio=0.5,
        init_std=0.01,
        average_clips='prob',
    )
)

train_pipeline = [
    dict(type='DecordInit'),
    dict(
        type='PlaybackSpeedSampleFrames',
        clip_len=clip_len,
        speeds=speeds,
        num_clips=num_clips,
        out_of_bound_opt='skip',
    ),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 128)),
    dict(type='RandomCrop', size=112),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
# validation: the training steps with a centre crop and no flip, in test mode
val_pipeline = [
    dict(step, test_mode=True)
    if step['type'] == 'PlaybackSpeedSampleFrames'
    else dict(type='CenterCrop', crop_size=112)
    if step['type'] == 'RandomCrop'
    else step
    for step in train_pipeline
    if step['type'] != 'Flip'
]
train_dataloader = dict(batch_size=8, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8, dataset=dict(pipeline=val_pipeline, test_mode=False)
)
test_dataloader = val_dataloader

max_epochs = 120
train_cfg = dict(
    type='EpochBasedTrainLoop',
    max_epochs=max_epochs,
    val_begin=1,
    val_interval=5,
)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True,
    ),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs,
        eta_min=0,
        by_epoch=True,
        begin=0,
        end=max_epochs,
    ),
]
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4),
    clip_grad=dict(max_norm=40, norm_type=2),
)
auto_scale_lr = dict(enable=False, base_batch_size=64)
