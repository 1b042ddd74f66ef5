# FineGym Gym99 (element-level subactions), videos read with decord,
# 8 segments x 1 frame. The Diving-48 base (MMAction2's TSM recipe with a
# plain horizontal flip) on other files, as MMAction2's tools/data/gym
# writes them; tools/data/prepare_dataset.py gym99 writes the same without
# ffmpeg (docs/datasets.md):
#   data/gym/subactions/<subaction id>.mp4
#   data/gym/annotations/gym99_{train,val}.txt  (`<id>.mp4 <label>`)
# 99 classes.
_base_ = './diving48_rgb_8f.py'

prepare_cmd = (
    'python tools/data/prepare_dataset.py gym99 '
    '--src <official download> --out data/gym'
)
prepare_doc = 'docs/datasets.md#finegym-gym99'
data_root = 'data/gym/subactions'
data_root_val = 'data/gym/subactions'
ann_file_train = 'data/gym/annotations/gym99_train.txt'
ann_file_val = 'data/gym/annotations/gym99_val.txt'
ann_file_test = 'data/gym/annotations/gym99_val.txt'

# the new files in every split's dataset (set again: the base's dataloaders
# hold the base's paths)
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
