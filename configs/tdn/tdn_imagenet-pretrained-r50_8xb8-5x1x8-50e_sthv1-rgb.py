# TDN (Wang et al., "TDN: Temporal Difference Networks for Efficient Action
# Recognition", CVPR 2021), 8 segments, Something-Something V1.
# Each segment is a snippet of 5 consecutive frames: the ResNet-50 sees the
# centre frame, the short-term TDM the frame differences; long-term TDM and a
# learnable shift after conv1 of every layer2-4 bottleneck. 35.89 GFLOPs and
# 24.03 M parameters per 8x5x224x224 clip (backbone).
# Trained with the official SELFY recipe (shared SSv1 data base and SGD 50e
# schedule); TDN's own recipe differs (60 epochs, steps 30/45/55).
_base_ = [
    '../_base_/models/tsm_r50.py',
    '../_base_/datasets/sthv1_rgb_8f.py',
    '../_base_/selfy_recipe.py'
]

model = dict(
    backbone=dict(
        type='TDNResNet',
        num_segments=8,
        snippet_len=5,
        # (rgb, difference) weights of the fusions; (0.75, 0.25) for 16
        fusion_weights=(0.5, 0.5)),
    # TSMHead that counts the 5 frames of a snippet as one segment
    cls_head=dict(
        type='TDNHead', num_classes=174, num_segments=8, snippet_len=5))

# 5-frame snippets per segment; frames past the end repeat the last one, as
# TDN's loader. The pipelines are restated because a child's pipeline
# variables do not reach the base's dataloaders.
file_client_args = dict(io_backend='disk')
sthv1_flip_label_map = {2: 4, 4: 2, 30: 41, 41: 30, 52: 66, 66: 52}
snippet_sampling = dict(
    type='SampleFrames',
    clip_len=5,
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
# the base's 2-clip x 3-crop variant, with snippets (for a *_test-2clip3crop
# child)
test_pipeline_2x3 = [
    dict(**snippet_sampling, twice_sample=True, test_mode=True),
    dict(type='RawFrameDecode', **file_client_args),
    dict(type='Resize', scale=(320, 240), keep_ratio=False),
    dict(type='ThreeCrop', crop_size=240),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]

train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
