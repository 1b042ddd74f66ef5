"""Training-loop additions: hooks for exact resume and skipped samples."""
from .hooks import CorruptSampleHook, RNGStateHook
from .rng import rng_states, seeded_rng, set_rng_states

__all__ = [
    'CorruptSampleHook', 'RNGStateHook', 'rng_states', 'seeded_rng',
    'set_rng_states'
]
