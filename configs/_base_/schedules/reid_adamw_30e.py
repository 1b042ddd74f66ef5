# Re-ID from scratch on a 2-core CPU: 30 epochs of the generated tracklet set
# (9 P x K batches an epoch, 270 iterations), AdamW with a 20-iteration
# warm-up and a per-iteration cosine decay; validation (mAP, CMC) every 10
# epochs. The motion schedule with more epochs, a gradient-norm clip of 5 and
# the P x K batch of 32.
_base_ = './motion_adamw_4e.py'

max_epochs = 30
train_cfg = dict(max_epochs=max_epochs, val_interval=10)
# the cosine decay over the 30 epochs
param_scheduler = [
    dict(step, T_max=max_epochs, end=max_epochs)
    if step.type == 'CosineAnnealingLR'
    else step
    for step in _base_.param_scheduler
]
optim_wrapper = dict(clip_grad=dict(max_norm=5))
auto_scale_lr = dict(base_batch_size=32)
