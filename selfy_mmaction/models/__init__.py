from . import backbones, blocks, heads  # noqa: F401
from .norms import TemporalGroupNorm  # noqa: F401,E402
