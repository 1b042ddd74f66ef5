from .stack import (allow_checkpoint_globals, apply_stack_repairs,
                    checkpoint_safe_globals, repair_cpu_distributed,
                    repair_missing_drn)

__all__ = [
    'allow_checkpoint_globals', 'apply_stack_repairs',
    'checkpoint_safe_globals', 'repair_cpu_distributed', 'repair_missing_drn'
]
