# The official SELFY training recipe shared by every paper config (a model
# base and a dataset base go beside it): the schedule of
# schedules/selfy_sgd_50e.py on our default runtime, keeping the last three
# checkpoints.
_base_ = ['./schedules/selfy_sgd_50e.py', './default_runtime.py']

default_hooks = dict(checkpoint=dict(max_keep_ckpts=3))
