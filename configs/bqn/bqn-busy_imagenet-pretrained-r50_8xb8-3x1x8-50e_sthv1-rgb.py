# BQN's busy network (Huang & Bors, arXiv 2103.15584, WACV 2022; the
# official busy_resnet.py): TSM-R50 whose input is one band-passed "busy"
# frame per segment. The Motion Band-Pass Module (learnable depthwise 9x9 LoG,
# sigma 1.1, normalised by its sum, reflect padding; learnable temporal kernel
# [-1, 2, -1]/3 over 3 consecutive frames, stride 3; 252 parameters) runs
# before conv1. 8 segments of 3 frames, Something-Something V1.
# Trained with the official SELFY recipe (shared SSv1 data base and SGD 50e
# schedule); BQN's own SSv1 recipe differs (16 segments, lr 0.12, wd 8e-4,
# dropout 0.8, cosine 50 e with 7 warm-up epochs, label smoothing).
_base_ = [
    '../_base_/models/tsm_r50.py',
    '../_base_/datasets/sthv1_rgb_8f.py',
    '../_base_/selfy_recipe.py'
]

model = dict(
    backbone=dict(
        type='BusyResNetTSM',  # ResNetTSM (shift 1/8) on the MBPM output
        num_segments=8,
        band_pass=dict(sigma=1.1, kernel_size=9)),
    # TSMHead that counts the 3 frames of a segment as one segment
    cls_head=dict(
        type='TDNHead', num_classes=174, num_segments=8, snippet_len=3))

# 3 consecutive frames per segment; frames past the end repeat the last one.
# The pipelines are restated because a child's pipeline variables do not
# reach the base's dataloaders.
file_client_args = dict(io_backend='disk')
sthv1_flip_label_map = {2: 4, 4: 2, 30: 41, 41: 30, 52: 66, 66: 52}
snippet_sampling = dict(
    type='SampleFrames',
    clip_len=3,
    frame_interval=1,
    num_clips=8,
    out_of_bound_opt='repeat_last')
train_pipeline = [
    snippet_sampling,
    dict(type='RawFrameDecode', **file_client_args),
    dict(type='Resize', scale=(320, 240), keep_ratio=False),
    dict(
        type='MultiScaleCrop',
        input_size=224,
        scales=(1, 0.875, 0.75, 0.66),
        random_crop=False,
        max_wh_scale_gap=1,
        num_fixed_crops=13),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5, flip_label_map=sthv1_flip_label_map),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(**snippet_sampling, test_mode=True),
    dict(type='RawFrameDecode', **file_client_args),
    dict(type='Resize', scale=(320, 240), keep_ratio=False),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
test_pipeline = val_pipeline

train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
