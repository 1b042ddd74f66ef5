# MMAction2's runtime with what every config of ours relies on, selected by
# name (importing selfy_mmaction changes nothing else, see docs/stack.md):
# - AtomicCheckpointHook: checkpoints and `last_checkpoint` written atomically,
#   outdated checkpoints deleted only after the new one is saved;
# - CPUDistributedRunner: MMEngine's Runner, which also runs distributed
#   (tools/dist_train.sh, torchrun, slurm, mpi) on machines without CUDA and
#   there splits the cores between intra-op threads and data workers
#   (env_cfg.cpu_budget: 'auto', an int, or None to keep the configured
#   values; selfy_mmaction/engine/cpu_budget.py);
# - ThroughputHook: training clips/s in the log.
_base_ = 'mmaction::_base_/default_runtime.py'

custom_imports = dict(imports=['selfy_mmaction'], allow_failed_imports=False)
runner_type = 'mmaction.CPUDistributedRunner'
default_hooks = dict(
    checkpoint=dict(type='AtomicCheckpointHook'),
    throughput=dict(type='ThroughputHook'),
)
env_cfg = dict(cpu_budget=dict(threads='auto', workers='auto'))
