# Training schedule of the official SELFY code (arunos728/SELFY main.py and
# scripts, Something-Something): SGD lr 0.01 for a total batch of 64
# (8 GPUs x 8 clips), Nesterov momentum 0.9, weight decay 5e-4 on conv/FC
# weights only (0 on norm layers and biases), biases at 2x lr, gradient-norm
# clip 20, 50 epochs, lr x0.1 at epochs 30 and 40, no warm-up.
# It differs from MMAction2's TSM sthv2 recipe (lr 0.02 @ 128, warm-up,
# steps 25/45, fc_lr5).
# Keys here: train_cfg/val_cfg/test_cfg, param_scheduler, optim_wrapper,
# auto_scale_lr (disjoint from the dataset bases and the default runtime).
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=50, val_begin=1, val_interval=1
)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(
        type='MultiStepLR',
        begin=0,
        end=50,
        by_epoch=True,
        milestones=[30, 40],
        gamma=0.1,
    )
]

# MMEngine's default constructor: norm weights/biases get no decay, every
# other bias gets no decay and 2x lr (the official TSM-style policy).
optim_wrapper = dict(
    optimizer=dict(
        type='SGD', lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4
    ),
    paramwise_cfg=dict(
        norm_decay_mult=0.0, bias_decay_mult=0.0, bias_lr_mult=2.0
    ),
    clip_grad=dict(max_norm=20, norm_type=2),
)

# lr 0.01 is for 64 clips per iteration (8 GPUs x 8). With
# `--auto-scale-lr` (enable=True) other GPU counts / batch sizes are rescaled
# linearly, so an 8-GPU and a 1-GPU run use the same lr per clip.
auto_scale_lr = dict(enable=False, base_batch_size=64)
