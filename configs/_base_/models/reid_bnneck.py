# The video re-ID model of the re-ID configs (selfy_mmaction VideoReID):
# BNNeckHead with ID cross-entropy (label smoothing 0.1) and a batch-hard
# triplet loss (margin 0.3) on ImageNet-normalised NCTHW tracklets. No
# backbone, class count or feature width here: each config brings them.
model = dict(
    type='VideoReID',
    cls_head=dict(
        type='BNNeckHead',
        label_smoothing=0.1,
        loss_triplet=dict(type='BatchHardTripletLoss', margin=0.3),
    ),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        format_shape='NCTHW',
    ),
)
