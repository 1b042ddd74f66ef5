# MSTAT re-ID on MARS at the paper's scale as far as it is known (abstract and
# unconfirmed secondary sources, docs/reid.md: ViT-B/16, 256x128 input, T=8,
# ID + triplet losses): MSTAT with
# ViT-B/16 layers in 3 stages of 4, its three stage outputs concatenated
# (3 x 768 per frame, averaged over the 8 frames) into the BNNeck head.
# NOT RUN here (no MARS, no GPU time); the schedule is a common transformer
# re-ID recipe (SGD, 5-epoch warm-up, cosine), not the paper's (unknown).
# ImageNet ViT weights: --cfg-options model.backbone.pretrained=PATH_OR_URL
# (timm vit_base_patch16_224 keys; see selfy_mmaction/models/backbones/mstat.py)
_base_ = [
    '../_base_/models/reid_bnneck.py',
    '../_base_/datasets/mars_rawframes.py',
    '../_base_/schedules/reid_adamw_30e.py',
    '../_base_/motion_runtime.py',
]

model = dict(
    backbone=dict(
        type='MSTAT',
        num_segments=8,
        img_size=(256, 128),
        patch_size=16,
        embed_dims=768,
        num_heads=12,
        stage_depths=(4, 4, 4),
        combine='concat',
        drop_path_rate=0.1,
        pretrained=None,
    ),
    cls_head=dict(in_channels=3 * 768, num_classes=625, num_segments=8),
)

# the re-ID schedule's loops and gradient clip with 120 epochs, validation
# every 10 from epoch 10, and SGD with a 5-epoch warm-up
max_epochs = 120
train_cfg = dict(max_epochs=max_epochs, val_begin=10)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.01,
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True,
    ),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs - 5,
        eta_min=1e-6,
        by_epoch=True,
        begin=5,
        end=max_epochs,
        convert_to_iter_based=True,
    ),
]
optim_wrapper = dict(
    optimizer=dict(
        _delete_=True, type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4
    )
)
default_hooks = dict(
    checkpoint=dict(
        interval=10, max_keep_ckpts=2, save_best='reid/mAP', rule='greater'
    )
)
