# TDN-ResNet-18 (Wang et al., CVPR 2021) from scratch on the embedded motion
# dataset: TDNResNet at depth 18 (short-term TDM on 5-frame snippets, the
# long-term TDM and the learnable shift after conv1 of every layer2-4 basic
# block), TDNHead. 8 segments of 5 consecutive frames each (frames past the
# end repeat the last one); everything else is the TSM-R18 motion recipe.
_base_ = ['../tsm/tsm_r18_1x1x8-4e_motion-rgb.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='TDNResNet',
        depth=18,
        num_segments=8,
        snippet_len=5,
        fusion_weights=(0.5, 0.5),
        pretrained=None,
        pretrained2d=False,
        norm_eval=False),
    cls_head=dict(type='TDNHead', num_segments=8, snippet_len=5))

snippet_sampling = dict(
    type='SampleFrames',
    clip_len=5,
    frame_interval=1,
    num_clips=8,
    out_of_bound_opt='repeat_last')
train_pipeline = [
    dict(type='DecordInit'), snippet_sampling,
    dict(type='DecordDecode'),
    dict(type='RandomResizedCrop', area_range=(0.7, 1.0),
         aspect_ratio_range=(0.85, 1.18)),
    dict(type='Resize', scale=(64, 64), keep_ratio=False),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='DecordInit'),
    dict(**snippet_sampling, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(64, 64), keep_ratio=False),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
test_pipeline = val_pipeline
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
