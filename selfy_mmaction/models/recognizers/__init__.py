from .dreal import (
    ATTENTION_GATES,
    DREALCritic,
    DREALRecognizer2D,
    plain_state_dict,
)
from .dreal_optim import DREALOptimWrapperConstructor

__all__ = [
    'ATTENTION_GATES',
    'DREALCritic',
    'DREALOptimWrapperConstructor',
    'DREALRecognizer2D',
    'plain_state_dict',
]
