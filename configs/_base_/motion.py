# Everything a config on the generated motion dataset shares besides its
# model: the 8-frame motion data, the 4-epoch AdamW schedule and the CPU
# runtime (a model base goes beside it).
_base_ = [
    './datasets/motion_tiny.py',
    './schedules/motion_adamw_4e.py',
    './motion_runtime.py',
]
