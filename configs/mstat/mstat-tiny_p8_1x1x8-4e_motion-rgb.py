# A tiny MSTAT (after Tang et al., "Multi-Stage Spatio-Temporal Aggregation
# Transformer for Video Person Re-identification", IEEE TMM 2023) as an
# action recognizer on the embedded motion dataset (from scratch, 48 px,
# 8 frames): 8x8 patches (6x6 per frame), width 64, 4 heads, three stages of
# 2 STA layers, 2 attribute and 1 identity proxy tokens; the three stage
# outputs are concatenated per frame (192-d) and TSNHead averages the frames.
# Temporal patch shuffling is not used: it would break the time-reversal
# pairs of the motion classes.
_base_ = ['../_base_/models/tsm_r18_motion.py', '../_base_/motion.py']

# the motion model base's recognizer and input, with MSTAT and TSNHead
model = dict(
    backbone=dict(
        _delete_=True,
        type='MSTAT',
        num_segments=8,
        img_size=48,
        patch_size=8,
        embed_dims=64,
        num_heads=4,
        mlp_ratio=4.0,
        stage_depths=(2, 2, 2),
        num_attribute_proxies=2,
        num_identity_proxies=1,
        combine='concat',
        drop_path_rate=0.0,
        pretrained=None,
    ),
    cls_head=dict(
        _delete_=True,
        type='TSNHead',
        num_classes=8,
        in_channels=192,
        spatial_type=None,
        consensus=dict(type='AvgConsensus', dim=1),
        dropout_ratio=0.3,
        init_std=0.01,
        average_clips='prob',
    ),
)
