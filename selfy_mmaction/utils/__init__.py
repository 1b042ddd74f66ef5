from .checkpoint import (
    AtomicLocalBackend,
    CheckpointMismatchError,
    atomic_write,
    check_checkpoint_fits,
    mismatch_report,
)
from .stack import (
    allow_checkpoint_globals,
    apply_stack_repairs,
    checkpoint_safe_globals,
    register_config_package,
    repair_missing_drn,
)

__all__ = [
    'AtomicLocalBackend',
    'CheckpointMismatchError',
    'allow_checkpoint_globals',
    'apply_stack_repairs',
    'atomic_write',
    'check_checkpoint_fits',
    'checkpoint_safe_globals',
    'mismatch_report',
    'register_config_package',
    'repair_missing_drn',
]
