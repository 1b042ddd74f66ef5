# Diving-48, videos read with decord, 8 segments x 1 frame. The sthv2 base's
# data settings (MMAction2's TSM recipe) with a plain horizontal flip: no
# Diving-48 class is defined by left/right. Files as
# tools/data/prepare_dataset.py diving48 writes them from the V2
# annotations (MMAction2's tools/data/diving48 layout; docs/datasets.md):
#   data/diving48/videos/<id>.mp4
#   data/diving48/diving48_{train,val}_list_videos.txt  (`<id>.mp4 <label>`)
# 48 classes.
_base_ = './sthv2_rgb_8f.py'

prepare_cmd = (
    'python tools/data/prepare_dataset.py diving48 '
    '--src <official download> --out data/diving48'
)
prepare_doc = 'docs/datasets.md#diving-48'
data_root = 'data/diving48/videos'
data_root_val = 'data/diving48/videos'
ann_file_train = 'data/diving48/diving48_train_list_videos.txt'
ann_file_val = 'data/diving48/diving48_val_list_videos.txt'
ann_file_test = 'data/diving48/diving48_val_list_videos.txt'

train_pipeline = [
    dict(type='Flip', flip_ratio=0.5) if step.type == 'Flip' else step
    for step in _base_.train_pipeline
]
# the new files in every split's dataset (set again: the base's dataloaders
# hold the base's paths), the plain flip in training
train_dataloader, val_dataloader, test_dataloader = (
    dict(
        dataset=dict(
            prepare_cmd=prepare_cmd,
            prepare_doc=prepare_doc,
            ann_file=ann_file,
            data_prefix=dict(video=root),
        )
    )
    for ann_file, root in (
        (ann_file_train, data_root),
        (ann_file_val, data_root_val),
        (ann_file_test, data_root_val),
    )
)
train_dataloader['dataset']['pipeline'] = train_pipeline
