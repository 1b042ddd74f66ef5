# MMAction2's 3D recognizer as in its I3D base (mmaction::_base_/models/
# i3d_r50.py): I3DHead (average pooling, dropout 0.5) on ImageNet-normalised
# NCTHW clips. No backbone, no class count and no head width here: each config
# brings them. (Kept here rather than inherited from MMAction2, whose base
# would add a `_scope_` key to the built model.)
model = dict(
    type='Recognizer3D',
    cls_head=dict(
        type='I3DHead',
        spatial_type='avg',
        dropout_ratio=0.5,
        init_std=0.01,
        average_clips='prob',
    ),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        format_shape='NCTHW',
    ),
)
