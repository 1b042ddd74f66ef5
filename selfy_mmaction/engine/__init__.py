"""Training-loop additions: hooks for exact resume, skipped samples and
crash-safe checkpoints; a runner that also runs distributed without CUDA."""

from .checkpoint_hook import AtomicCheckpointHook
from .hooks import CorruptSampleHook, RNGStateHook
from .rng import rng_states, seeded_rng, set_rng_states
from .runner import CPUDistributedRunner, build_runner, init_cpu_dist

__all__ = [
    'AtomicCheckpointHook',
    'CPUDistributedRunner',
    'CorruptSampleHook',
    'RNGStateHook',
    'build_runner',
    'init_cpu_dist',
    'rng_states',
    'seeded_rng',
    'set_rng_states',
]
