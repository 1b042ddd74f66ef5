"""Turn the official downloads of the paper datasets into what the configs
read (``tools/data/prepare_dataset.py`` is the command; ``docs/datasets.md``
the guide)."""

from .common import PLACE_MODES, PrepareError, PrepareResult
from .diving48 import prepare_diving48
from .gym99 import prepare_gym99
from .mars import prepare_mars
from .sthv1 import prepare_sthv1
from .sthv2 import prepare_sthv2

#: Dataset name (the command's first argument) -> preparation function.
PREPARERS = dict(
    sthv1=prepare_sthv1,
    sthv2=prepare_sthv2,
    diving48=prepare_diving48,
    gym99=prepare_gym99,
    mars=prepare_mars,
)

__all__ = [
    'PLACE_MODES',
    'PREPARERS',
    'PrepareError',
    'PrepareResult',
    'prepare_diving48',
    'prepare_gym99',
    'prepare_mars',
    'prepare_sthv1',
    'prepare_sthv2',
]
