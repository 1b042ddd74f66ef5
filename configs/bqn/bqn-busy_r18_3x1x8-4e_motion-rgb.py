# BQN's busy network on TSM-ResNet-18 (from scratch) on the embedded motion
# dataset (64 px, 8 segments of 3 consecutive frames; frames past the end
# repeat the last one): the input Motion Band-Pass Module before conv1. The
# matching baseline is configs/tsm/tsm_r18_1x1x8-4e_motion-rgb.py.
_base_ = ['../_base_/models/tsm_r18_motion.py', '../_base_/motion_snippets.py']

model = dict(
    backbone=dict(type='BusyResNetTSM'),
    cls_head=dict(type='TDNHead', snippet_len=3),
)


# 3-frame snippets
snippet_sampling = dict(_base_.snippet_sampling, clip_len=3)
train_pipeline, val_pipeline = (
    [
        dict(step, clip_len=3) if step.type == 'SampleFrames' else step
        for step in pipeline
    ]
    for pipeline in (_base_.train_pipeline, _base_.val_pipeline)
)
test_pipeline = val_pipeline
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
