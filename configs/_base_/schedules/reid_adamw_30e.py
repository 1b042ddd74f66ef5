# Re-ID from scratch on a 2-core CPU: 30 epochs of the generated tracklet set
# (9 P x K batches an epoch, 270 iterations), AdamW with a 20-iteration
# warm-up and a per-iteration cosine decay; validation (mAP, CMC) every 10
# epochs.
max_epochs = 30
train_cfg = dict(
    type='EpochBasedTrainLoop',
    max_epochs=max_epochs,
    val_begin=1,
    val_interval=10,
)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs,
        eta_min=0,
        by_epoch=True,
        begin=0,
        end=max_epochs,
        convert_to_iter_based=True,
    ),
]
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
    clip_grad=dict(max_norm=5, norm_type=2),
)
auto_scale_lr = dict(enable=False, base_batch_size=32)
