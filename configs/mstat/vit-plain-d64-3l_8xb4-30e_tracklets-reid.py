# Plain ViT baseline of MSTAT re-ID on the generated tracklet set: a per-frame
# ViT (MMAction2 TimeSformer, attention_type='space_only': no temporal
# attention; class tokens averaged over the 8 frames), the same size as the
# MSTAT config (48x48 input, 8x8 patches, 64 dims, 4 heads, 3 layers) and the
# same BNNeck head and losses (ID cross-entropy with label smoothing 0.1 +
# batch-hard triplet, margin 0.3).
_base_ = [
    '../_base_/models/reid_bnneck.py',
    '../_base_/datasets/reid_tracklets.py',
    '../_base_/schedules/reid_adamw_30e.py',
    '../_base_/motion_runtime.py',
]

embed_dims = 64
model = dict(
    backbone=dict(
        type='TimeSformer',
        num_frames=8,
        img_size=48,
        patch_size=8,
        embed_dims=embed_dims,
        num_heads=4,
        num_transformer_layers=3,
        attention_type='space_only',
    ),
    cls_head=dict(in_channels=embed_dims, num_classes=48),
)
default_hooks = dict(
    checkpoint=dict(
        interval=10, max_keep_ckpts=1, save_best='reid/mAP', rule='greater'
    )
)
