# MMAction2's runtime, with what a small CPU run needs.
_base_ = './default_runtime.py'

custom_imports = dict(imports=['selfy_mmaction'], allow_failed_imports=False)
default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(interval=1, max_keep_ckpts=2)
)
randomness = dict(seed=0, deterministic=False)
# Exact resume (random states in checkpoints, per-sample seeding) and a
# per-epoch count of skipped unreadable samples (selfy_mmaction.engine).
custom_hooks = [dict(type='RNGStateHook'), dict(type='CorruptSampleHook')]
