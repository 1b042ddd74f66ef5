# The motion base (data, schedule, runtime) with 64 px frames and 8 segments
# of 5 consecutive frames (frames past the end repeat the last one), for the
# models that see frame differences inside a segment (TDN, EAN, BQN's busy
# network). A model base goes beside it.
_base_ = ['./motion.py', './datasets/snippet_5x1x8.py']

# the motion pipelines with snippets at 64 px (set again in the dataloaders:
# a child's pipeline variables do not reach the base's dataloaders)
train_pipeline, val_pipeline = (
    [
        dict(step, **_base_.snippet_sampling)
        if step.type == 'SampleFrames'
        else dict(step, scale=(64, 64))
        if step.type == 'Resize'
        else step
        for step in pipeline
    ]
    for pipeline in (_base_.train_pipeline, _base_.val_pipeline)
)
test_pipeline = val_pipeline
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
