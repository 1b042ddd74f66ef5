# FineGym Gym99, 16 segments x 1 frame; everything else as the 8-frame base.
_base_ = './gym99_rgb_8f.py'

# the base's pipelines with 16 segments (a child's pipeline variables do not
# reach the base's dataloaders: they are set again below)
train_pipeline, val_pipeline, test_pipeline_2x3 = (
    [
        dict(step, num_clips=16) if step.type == 'SampleFrames' else step
        for step in pipeline
    ]
    for pipeline in (
        _base_.train_pipeline,
        _base_.val_pipeline,
        _base_.test_pipeline_2x3,
    )
)
test_pipeline = val_pipeline
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
