# TSM-ResNet-18 from scratch for the 64 px motion dataset; `blocks` stays
# empty here and the SELFY/baseline configs add theirs.
model = dict(
    type='Recognizer2D',
    backbone=dict(
        type='ResNetTSMWithBlocks',
        depth=18,
        num_segments=8,
        shift_div=8,
        pretrained=None,
        pretrained2d=False,
        norm_eval=False,
        blocks=[],
    ),
    cls_head=dict(
        type='CheckedTSMHead',
        num_classes=8,
        num_segments=8,
        in_channels=512,
        spatial_type='avg',
        consensus=dict(type='AvgConsensus', dim=1),
        dropout_ratio=0.3,
        init_std=0.01,
        is_shift=True,
        average_clips='prob',
    ),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        format_shape='NCHW',
    ),
)
