# The motion suite (selfy_mmaction.datasets.motion_suite, docs/motion_suite.md):
# real mp4 clips generated on first use into data/motion_suite/. 11 classes
# (4 directions x slow/fast, pass, bounce, push), 8 frames of 64x64 px seen
# whole (no crop: a crop would rescale the speeds), on textured panning
# backgrounds with distractors and moving occluders; the test split is drawn
# from a held-out generator seed (new shapes, textures, speeds). The loaders
# are the motion dataset's (motion_videos.py) with this dataset.
_base_ = './motion_videos.py'

dataset_type = 'MotionSuiteDataset'
data_root = 'data/motion_suite/videos'
ann_file_train = 'data/motion_suite/suite_train_list_videos.txt'
ann_file_val = 'data/motion_suite/suite_test_list_videos.txt'
ann_file_test = ann_file_val
num_classes = 11
# MotionSuiteSpec fields; train and test share them (one root).
suite_spec = dict(seed=0, test_seed=1000)

# No flip and no crop: both change what the labels say (direction, speed).
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=8),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(64, 64), keep_ratio=False),
    dict(type='FormatShape', input_format='NCHW'),
    dict(
        type='PackActionInputs',
        meta_keys=('img_shape', 'speed', 'speed_bin', 'task'),
    ),
]
val_pipeline = [
    dict(step, test_mode=True) if step['type'] == 'SampleFrames' else step
    for step in train_pipeline
]
test_pipeline = val_pipeline

suite_dataset = dict(
    type=dataset_type,
    spec=dict(suite_spec, _delete_=True),
    data_prefix=dict(video=data_root),
)
train_dataloader = dict(
    dataset=dict(
        suite_dataset, ann_file=ann_file_train, pipeline=train_pipeline
    )
)
val_dataloader = dict(
    dataset=dict(suite_dataset, ann_file=ann_file_val, pipeline=val_pipeline)
)
test_dataloader = val_dataloader

# MotionSuiteMetric (selfy_mmaction.evaluation): top-1 by task and speed bin,
# direction and speed accuracy of the translations.
val_evaluator = [dict(type='AccMetric'), dict(type='MotionSuiteMetric')]
test_evaluator = val_evaluator
