# Something-Something V1, RGB frames, 8 segments x 1 frame (TSN sampling),
# data settings of the official SELFY code (docs/selfy.md, 'Training recipe').
# Frames as tools/data/prepare_dataset.py sthv1 writes them (MMAction2's
# tools/data/sthv1 layout; docs/datasets.md):
#   data/sthv1/rawframes/<id>/00001.jpg ...
#   data/sthv1/sthv1_{train,val}_list_rawframes.txt  (`<id> <frames> <label>`)
# 174 classes. Keys: dataset/pipeline variables, *_dataloader, *_evaluator.
# MMAction2's RawframeDataset with checked list lines and, when the list or the
# data root is missing, a short error naming the command that makes them
# (selfy_mmaction.datasets.checked)
dataset_type = 'CheckedRawframeDataset'
prepare_cmd = (
    'python tools/data/prepare_dataset.py sthv1 '
    '--src <official download> --out data/sthv1'
)
prepare_doc = 'docs/datasets.md#something-something-v1'
data_root = 'data/sthv1/rawframes'
data_root_val = 'data/sthv1/rawframes'
ann_file_train = 'data/sthv1/sthv1_train_list_rawframes.txt'
ann_file_val = 'data/sthv1/sthv1_val_list_rawframes.txt'
ann_file_test = 'data/sthv1/sthv1_val_list_rawframes.txt'

# Horizontal flip would turn "left to right" into "right to left". The
# official code skips the flip for those videos; MMAction2's Flip flips them
# and swaps the label instead (both keep labels right). The pairs below are
# the label ids of MMAction2's sthv1 lists (class order of
# something-something-v1-labels.csv, as in MMAction2's TANet sthv1 config);
# the official code's 86/87, 93/94, 166/167 index an alphabetically sorted
# class list and would be wrong here.
sthv1_flip_label_map = {2: 4, 4: 2, 30: 41, 41: 30, 52: 66, 66: 52}

file_client_args = dict(io_backend='disk')
train_pipeline = [
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=8),
    dict(type='RawFrameDecode', **file_client_args),
    # every frame to exactly 320x240 (aspect ignored), as the official code
    dict(type='Resize', scale=(320, 240), keep_ratio=False),
    dict(
        type='MultiScaleCrop',
        input_size=224,
        scales=(1, 0.875, 0.75, 0.66),
        random_crop=False,
        max_wh_scale_gap=1,
        num_fixed_crops=13,
    ),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5, flip_label_map=sthv1_flip_label_map),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]
# 1 clip x 1 centre crop: the paper's protocol (val and test)
val_pipeline = [
    dict(
        type='SampleFrames',
        clip_len=1,
        frame_interval=1,
        num_clips=8,
        test_mode=True,
    ),
    dict(type='RawFrameDecode', **file_client_args),
    dict(type='Resize', scale=(320, 240), keep_ratio=False),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]
test_pipeline = val_pipeline
# 2 clips x 3 crops (start and middle of each segment; three 240x240 crops of
# the 320x240 frame, the full-resolution analogue of MMAction2's
# ThreeCrop(256) after a 256 short side). Used by the *_test-2clip3crop
# configs.
test_pipeline_2x3 = [
    dict(step, twice_sample=True)
    if step['type'] == 'SampleFrames'
    else dict(type='ThreeCrop', crop_size=240)
    if step['type'] == 'CenterCrop'
    else step
    for step in val_pipeline
]

# 8 clips per GPU x 8 GPUs = the official batch of 64
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
        data_prefix=dict(img=data_root),
        filename_tmpl='{:05}.jpg',
        start_index=1,
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
        data_prefix=dict(img=data_root_val),
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
