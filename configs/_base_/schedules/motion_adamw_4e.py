# A from-scratch schedule sized for a 2-core CPU on the motion dataset:
# 4 epochs of 960 clips (480 iterations at batch 8), AdamW with a 20-iteration
# warm-up and a per-iteration cosine decay. SGD at lr 0.01-0.05 over 15 epochs
# of 320 clips left TSM-R18 at 37% (tools/benchmark_zoo.py, seed 0); AdamW at
# 1e-3 over more clips and fewer epochs reached 80-86% in the same time.
max_epochs = 4
train_cfg = dict(
    type='EpochBasedTrainLoop',
    max_epochs=max_epochs,
    val_begin=1,
    val_interval=1,
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
    clip_grad=dict(max_norm=20, norm_type=2),
)
auto_scale_lr = dict(enable=False, base_batch_size=8)
