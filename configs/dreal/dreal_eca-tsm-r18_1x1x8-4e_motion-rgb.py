# DREAL (Li & Chen, ECCV 2020) on ECA-TSM-ResNet-18, embedded motion dataset:
# the ECA motion config, trained by DREALRecognizer2D (a recurrent critic
# scores the 8 ECA maps; the recognizer is optimised with CE - lambda * Q).
# Test time is the plain recognizer (the critic is not used). The baseline
# with identical settings is configs/eca/eca_r18_1x1x8-4e_motion-rgb.py.
_base_ = ['../eca/eca_r18_1x1x8-4e_motion-rgb.py']

model = dict(
    type='DREALRecognizer2D',
    attention=['ECA'],
    critic=dict(type='DREALCritic', embed_channels=64, hidden_channels=64),
    neutral='mean',
    reward='sign',
    reward_tolerance=0.01,
    value_weight=0.1,
    num_ablated=1,
    critic_warmup_iters=100,
)

# actor: the baseline's optimiser and schedule; critic: Adam at a constant lr
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
# Distributed runs: DREALRecognizer2D.train_step does its own two updates, so
# the wrapper must call it (MMDistributedDataParallel.train_step would not);
# the critic's LSTM leaves the projections after the ablated module unused.
model_wrapper_cfg = dict(
    type='MMSeparateDistributedDataParallel', find_unused_parameters=True
)
