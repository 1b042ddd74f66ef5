"""Training-loop additions: hooks for exact resume, skipped samples,
throughput and crash-safe checkpoints; a runner that also runs distributed
without CUDA and splits the cores between threads and data workers."""

from .checkpoint_hook import AtomicCheckpointHook
from .cpu_budget import CPUBudget, resolve_cpu_budget
from .hooks import CorruptSampleHook, RNGStateHook, ThroughputHook
from .rng import rng_states, seeded_rng, set_rng_states
from .runner import CPUDistributedRunner, build_runner, init_cpu_dist

__all__ = [
    'AtomicCheckpointHook',
    'CPUBudget',
    'CPUDistributedRunner',
    'CorruptSampleHook',
    'RNGStateHook',
    'ThroughputHook',
    'build_runner',
    'init_cpu_dist',
    'resolve_cpu_budget',
    'rng_states',
    'seeded_rng',
    'set_rng_states',
]
