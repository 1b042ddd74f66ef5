"""Motion blocks, one file per family, registered in MMAction2's MODELS."""

from . import (
    bqn,  # noqa: F401
    cost,  # noqa: F401
    ean,  # noqa: F401
    eca,  # noqa: F401
    msnet,  # noqa: F401
    p3d,  # noqa: F401
    r2plus1d,  # noqa: F401
    sta,  # noqa: F401
    stm,  # noqa: F401
    stsm,  # noqa: F401
    tada,  # noqa: F401
    tdn,  # noqa: F401
    tea,  # noqa: F401
    tsi,  # noqa: F401
)
from .selfy import (
    SELFYBlock,
    STSSExtraction,
    STSSIntegration,  # noqa: F401
    STSSTransformation,
)
