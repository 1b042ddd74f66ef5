# Something-Something V1, 8 segments x a snippet of 5 consecutive frames
# (TDN, EAN); frames past the end repeat the last one, as TDN's loader.
# Everything else as the 8-frame base.
_base_ = ['./sthv1_rgb_8f.py', './snippet_5x1x8.py']

# the base's pipelines with snippets (a child's pipeline variables do not
# reach the base's dataloaders: they are set again below)
train_pipeline, val_pipeline, test_pipeline_2x3 = (
    [
        dict(step, **_base_.snippet_sampling)
        if step.type == 'SampleFrames'
        else step
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
