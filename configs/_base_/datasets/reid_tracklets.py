# The generated re-ID tracklet set (selfy_mmaction.datasets.tracklets): real
# mp4 tracklets of walkers, generated on first use into data/reid_tracklets
# (or by `python tools/data/generate_tracklets.py`). 48 training and 32 test
# identities (disjoint; pairs of "twins" that differ only in gait), 4
# cameras, 3 cameras x 2 tracklets per identity, 8 frames of 64x64 px
# (the networks see 48x48).
# Training batches: P=8 identities x K=4 tracklets (IdentityBatchSampler).
# Test: MARS protocol (queries = the first tracklet of each identity in each
# camera; the gallery is the whole test set; same identity and camera is junk).
# Frames, P x K batches, meta keys and metric: reid_pk.py.
_base_ = './reid_pk.py'

dataset_type = 'GeneratedTrackletDataset'
data_root = 'data/reid_tracklets/videos'
ann_file_train = 'data/reid_tracklets/tracklets_train.txt'
ann_file_test = 'data/reid_tracklets/tracklets_test.txt'
tracklet_spec = dict(seed=0)  # TrackletDatasetSpec fields (one root)

train_pipeline = [
    dict(type='DecordInit'),
    dict(type='UniformSample', clip_len=_base_.num_frames),
    dict(type='DecordDecode'),
    dict(
        type='RandomResizedCrop',
        area_range=(0.8, 1.0),
        aspect_ratio_range=(0.9, 1.1),
    ),
    dict(type='Resize', scale=(48, 48), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs', meta_keys=_base_.reid_meta_keys),
]
# test: the training steps without the random crop and flip, sampling in
# test mode
test_pipeline = [
    dict(step, test_mode=True) if step['type'] == 'UniformSample' else step
    for step in train_pipeline
    if step['type'] not in ('RandomResizedCrop', 'Flip')
]

# the files (one root, one spec), 2 workers; 16 tracklets per test batch
train_dataloader, val_dataloader = (
    dict(
        num_workers=2,
        dataset=dict(
            type=dataset_type,
            ann_file=ann_file,
            spec=tracklet_spec,
            data_prefix=dict(video=data_root),
            pipeline=pipeline,
        ),
    )
    for ann_file, pipeline in (
        (ann_file_train, train_pipeline),
        (ann_file_test, test_pipeline),
    )
)
val_dataloader['batch_size'] = 16
test_dataloader = val_dataloader
