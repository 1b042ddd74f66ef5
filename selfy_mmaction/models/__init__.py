from . import (  # noqa: F401
    backbones,
    blocks,
    heads,
    recognizers,
    reid,  # noqa: F401,E402
)
from .norms import TemporalGroupNorm  # noqa: F401,E402
