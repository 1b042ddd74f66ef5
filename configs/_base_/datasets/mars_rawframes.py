# MARS (video person re-ID) as written by
# `python tools/data/prepare_dataset.py mars --src MARS_DOWNLOAD` (docs/reid.md)
# tracklet frame folders and lists <frame_dir> <frames> <pid> <camid>
# [<is_query>]. 625 training identities (relabelled 0..624), 8 frames per
# tracklet (restricted random sampling: one frame from each of 8 equal
# segments), 256x128 input, P=8 x K=4 batches. Test: the MARS protocol
# (1980 queries, the whole test set as gallery, pid -1 junk, same identity
# and camera junk), all frames' features of the 8-frame clip averaged.
dataset_type = 'TrackletDataset'
data_root = 'data/mars/tracklets'
ann_file_train = 'data/mars/mars_train_list_rawframes.txt'
ann_file_test = 'data/mars/mars_test_list_rawframes.txt'
prepare = dict(
    prepare_cmd='python tools/data/prepare_dataset.py mars --src '
    'MARS_DOWNLOAD',
    prepare_doc='docs/reid.md',
)
num_frames = 8
num_identities, num_instances = 8, 4  # P x K
reid_meta_keys = ('pid', 'camid', 'is_query')

train_pipeline = [
    dict(type='UniformSample', clip_len=num_frames),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(128, 256), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs', meta_keys=reid_meta_keys),
]
# test: the training steps without the flip, sampling in test mode
test_pipeline = [
    dict(step, test_mode=True) if step['type'] == 'UniformSample' else step
    for step in train_pipeline
    if step['type'] != 'Flip'
]

train_dataloader = dict(
    batch_size=num_identities * num_instances,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(
        type='IdentityBatchSampler',
        num_identities=num_identities,
        num_instances=num_instances,
    ),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_train,
        data_type='rawframes',
        relabel=True,
        data_prefix=dict(img=data_root),
        pipeline=train_pipeline,
        **prepare,
    ),
)
val_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_test,
        data_type='rawframes',
        data_prefix=dict(img=data_root),
        pipeline=test_pipeline,
        test_mode=True,
        **prepare,
    ),
)
test_dataloader = val_dataloader

val_evaluator = dict(type='ReIDMetric', distance='euclidean')
test_evaluator = val_evaluator
