from . import backbones, blocks, heads, recognizers  # noqa: F401
from .norms import TemporalGroupNorm  # noqa: F401,E402
from . import reid  # noqa: F401,E402
