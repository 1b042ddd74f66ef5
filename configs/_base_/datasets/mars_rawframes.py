# MARS (video person re-ID) as written by
# `python tools/data/prepare_dataset.py mars --src MARS_DOWNLOAD` (docs/reid.md)
# tracklet frame folders and lists <frame_dir> <frames> <pid> <camid>
# [<is_query>]. 625 training identities (relabelled 0..624), 8 frames per
# tracklet (restricted random sampling: one frame from each of 8 equal
# segments), 256x128 input, P=8 x K=4 batches. Test: the MARS protocol
# (1980 queries, the whole test set as gallery, pid -1 junk, same identity
# and camera junk), all frames' features of the 8-frame clip averaged.
# Frames, P x K batches, meta keys and metric: reid_pk.py.
_base_ = './reid_pk.py'

dataset_type = 'TrackletDataset'
data_root = 'data/mars/tracklets'
ann_file_train = 'data/mars/mars_train_list_rawframes.txt'
ann_file_test = 'data/mars/mars_test_list_rawframes.txt'
prepare = dict(
    prepare_cmd='python tools/data/prepare_dataset.py mars --src '
    'MARS_DOWNLOAD',
    prepare_doc='docs/reid.md',
)

train_pipeline = [
    dict(type='UniformSample', clip_len=_base_.num_frames),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(128, 256), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs', meta_keys=_base_.reid_meta_keys),
]
# test: the training steps without the flip, sampling in test mode
test_pipeline = [
    dict(step, test_mode=True) if step['type'] == 'UniformSample' else step
    for step in train_pipeline
    if step['type'] != 'Flip'
]

# the frame folders, 8 workers; 32 tracklets per test batch
train_dataloader, val_dataloader = (
    dict(
        num_workers=8,
        dataset=dict(
            type=dataset_type,
            ann_file=ann_file,
            data_type='rawframes',
            data_prefix=dict(img=data_root),
            pipeline=pipeline,
            **prepare,
        ),
    )
    for ann_file, pipeline in (
        (ann_file_train, train_pipeline),
        (ann_file_test, test_pipeline),
    )
)
val_dataloader['batch_size'] = 32
test_dataloader = val_dataloader
