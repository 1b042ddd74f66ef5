# BQN's busy network (Huang & Bors, arXiv 2103.15584, WACV 2022; the
# official busy_resnet.py): TSM-R50 whose input is one band-passed "busy"
# frame per segment. The Motion Band-Pass Module (learnable depthwise 9x9 LoG,
# sigma 1.1, normalised by its sum, reflect padding; learnable temporal kernel
# [-1, 2, -1]/3 over 3 consecutive frames, stride 3; 252 parameters) runs
# before conv1. 8 segments of 3 frames, Something-Something V1.
# Trained with the official SELFY recipe (shared SSv1 data base and SGD 50e
# schedule); BQN's own SSv1 recipe differs (16 segments, lr 0.12, wd 8e-4,
# dropout 0.8, cosine 50 e with 7 warm-up epochs, label smoothing).
_base_ = '../_base_/r50_snippets_sthv1.py'

model = dict(
    backbone=dict(
        type='BusyResNetTSM',  # ResNetTSM (shift 1/8) on the MBPM output
        band_pass=dict(sigma=1.1, kernel_size=9),
    ),
    # TDNHead counting the 3 frames of a segment as one segment
    cls_head=dict(snippet_len=3),
)

# the snippet base with 3 consecutive frames per segment
snippet_sampling = dict(_base_.snippet_sampling, clip_len=3)
train_pipeline, val_pipeline, test_pipeline_2x3 = (
    [
        dict(step, clip_len=3) if step.type == 'SampleFrames' else step
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
