# Something-Something V2, webm videos read with decord, 8 segments x 1 frame.
# Data settings of MMAction2's shipped
# recognition/tsm/tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_sthv2-rgb.py
# (short side 256, multi-scale crop, flip with label swap), except 8 clips
# per GPU (8 GPUs x 8 = the official SELFY batch of 64). Files as
# tools/data/prepare_dataset.py sthv2 writes them (MMAction2's
# tools/data/sthv2 layout; docs/datasets.md):
#   data/sthv2/videos/<id>.webm
#   data/sthv2/sthv2_{train,val}_list_videos.txt  (`<id>.webm <label>`)
# 174 classes.
# MMAction2's VideoDataset with checked list lines and, when the list or the
# data root is missing, a short error naming the command that makes them
# (selfy_mmaction.datasets.checked)
dataset_type = 'CheckedVideoDataset'
prepare_cmd = (
    'python tools/data/prepare_dataset.py sthv2 '
    '--src <official download> --out data/sthv2'
)
prepare_doc = 'docs/datasets.md#something-something-v2'
data_root = 'data/sthv2/videos'
data_root_val = 'data/sthv2/videos'
ann_file_train = 'data/sthv2/sthv2_train_list_videos.txt'
ann_file_val = 'data/sthv2/sthv2_val_list_videos.txt'
ann_file_test = 'data/sthv2/sthv2_val_list_videos.txt'

# left/right class pairs in MMAction2's sthv2 label order (the same ids the
# official SELFY code excludes from flipping; MMAction2 flips and swaps)
sthv2_flip_label_map = {86: 87, 87: 86, 93: 94, 94: 93, 166: 167, 167: 166}

file_client_args = dict(io_backend='disk')
train_pipeline = [
    dict(type='DecordInit', **file_client_args),
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=8),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(
        type='MultiScaleCrop',
        input_size=224,
        scales=(1, 0.875, 0.75, 0.66),
        random_crop=False,
        max_wh_scale_gap=1,
        num_fixed_crops=13,
    ),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5, flip_label_map=sthv2_flip_label_map),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]
# 1 clip x 1 centre crop (val and the default test)
val_pipeline = [
    dict(type='DecordInit', **file_client_args),
    dict(
        type='SampleFrames',
        clip_len=1,
        frame_interval=1,
        num_clips=8,
        test_mode=True,
    ),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]
test_pipeline = val_pipeline
# 2 clips x 3 crops: MMAction2's TSM sthv2 test protocol
test_pipeline_2x3 = [
    dict(step, twice_sample=True)
    if step['type'] == 'SampleFrames'
    else dict(type='ThreeCrop', crop_size=256)
    if step['type'] == 'CenterCrop'
    else step
    for step in val_pipeline
]

train_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        prepare_cmd=prepare_cmd,
        prepare_doc=prepare_doc,
        ann_file=ann_file_train,
        data_prefix=dict(video=data_root),
        pipeline=train_pipeline,
    ),
)
# val and test: the training settings without shuffling, on the val list
# (test: one video per batch)
val_dataloader = dict(
    train_dataloader,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        train_dataloader['dataset'],
        ann_file=ann_file_val,
        data_prefix=dict(video=data_root_val),
        pipeline=val_pipeline,
        test_mode=True,
    ),
)
test_dataloader = dict(
    val_dataloader,
    batch_size=1,
    dataset=dict(
        val_dataloader['dataset'],
        ann_file=ann_file_test,
        pipeline=test_pipeline,
    ),
)

val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator
