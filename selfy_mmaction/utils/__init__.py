from .checkpoint import (CheckpointMismatchError, atomic_write,
                         check_checkpoint_fits, mismatch_report)
from .stack import (allow_checkpoint_globals, apply_stack_repairs,
                    checkpoint_safe_globals, repair_atomic_checkpoints,
                    repair_cpu_distributed, repair_missing_drn,
                    repair_tsm_head_segments)

__all__ = [
    'CheckpointMismatchError', 'allow_checkpoint_globals',
    'apply_stack_repairs', 'atomic_write', 'check_checkpoint_fits',
    'checkpoint_safe_globals', 'mismatch_report', 'repair_atomic_checkpoints',
    'repair_cpu_distributed', 'repair_missing_drn', 'repair_tsm_head_segments'
]
