"""Motion blocks, one file per family, registered in MMAction2's MODELS."""

from . import (  # noqa: F401  (importing a family registers its blocks)
    bqn,
    cost,
    ean,
    eca,
    msnet,
    p3d,
    r2plus1d,
    sta,
    stm,
    stsm,
    tada,
    tdn,
    tea,
    tsi,
)
from .selfy import (
    SELFYBlock,
    STSSExtraction,
    STSSIntegration,
    STSSTransformation,
)

__all__ = [
    'SELFYBlock',
    'STSSExtraction',
    'STSSIntegration',
    'STSSTransformation',
]
