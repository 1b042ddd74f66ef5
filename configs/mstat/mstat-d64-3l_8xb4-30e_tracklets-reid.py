# MSTAT re-ID on the generated tracklet set: the MSTAT backbone (3 stages of
# one STA layer each: spatial then temporal attention; 4 attribute and 1
# identity proxy tokens; the three stage outputs concatenated per frame,
# 3 x 64 dims, averaged over the 8 frames by the head), the same size, head
# and losses as the plain ViT baseline
# (vit-plain-d64-3l_8xb4-30e_tracklets-reid.py).
_base_ = ['./vit-plain-d64-3l_8xb4-30e_tracklets-reid.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='MSTAT',
        num_segments=8,
        img_size=(48, 48),
        patch_size=8,
        embed_dims=64,
        num_heads=4,
        stage_depths=(1, 1, 1),
        combine='concat',
        drop_path_rate=0.1,
    ),
    cls_head=dict(in_channels=3 * 64, num_segments=8),
)
