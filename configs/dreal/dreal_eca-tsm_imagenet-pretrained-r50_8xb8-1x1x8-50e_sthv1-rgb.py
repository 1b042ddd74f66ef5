# DREAL (Li & Chen, ECCV 2020) on ECA-TSM-R50, 8 frames, Something-Something
# V1: the ECA-TSM-R50 config (the SELFY recipe: SGD 50 epochs, 8 GPUs x 8
# clips) trained by DREALRecognizer2D. A recurrent critic scores the 16 ECA
# maps; the recognizer is optimised with CE - lambda * sum Q (its optimiser,
# parameter-wise settings and schedule unchanged), the critic by Adam on the
# MSE to the rewards. Test time is the plain recognizer (the critic is not
# used; tools/dreal_export.py writes weights for the ECA config). The baseline
# with identical settings is
# configs/eca/eca_imagenet-pretrained-r50_8xb8-1x1x8-50e_sthv1-rgb.py.
# DREAL's own settings (the paper's are unknown: see
# selfy_mmaction/models/recognizers/dreal.py) are our defaults; the critic
# warms up for 1000 iterations (~0.75 epoch of 86k clips at 64 per step).
_base_ = ['../eca/eca_imagenet-pretrained-r50_8xb8-1x1x8-50e_sthv1-rgb.py']

model = dict(
    type='DREALRecognizer2D',
    attention=['ECA'],
    critic=dict(type='DREALCritic', embed_channels=64, hidden_channels=64),
    neutral='mean',
    reward='sign',
    reward_tolerance=0.01,
    value_weight=0.1,
    num_ablated=1,
    critic_warmup_iters=1000,
)

optim_wrapper = dict(
    _delete_=True,
    constructor='DREALOptimWrapperConstructor',
    actor={{_base_.optim_wrapper}},
    critic=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3)),
)
param_scheduler = dict(
    _delete_=True,
    actor={{_base_.param_scheduler}},
    critic=[dict(type='ConstantLR', factor=1.0, by_epoch=False, begin=0)],
)
# DREALRecognizer2D.train_step does its own two updates: the wrapper must call
# it; the critic's LSTM leaves the projections after the ablated module unused.
model_wrapper_cfg = dict(
    type='MMSeparateDistributedDataParallel', find_unused_parameters=True
)
