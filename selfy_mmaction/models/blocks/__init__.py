"""Motion blocks, one file per family, registered in MMAction2's MODELS."""

from . import stm  # noqa: F401
from . import tea  # noqa: F401
from . import msnet  # noqa: F401
from . import tdn  # noqa: F401
from . import tada  # noqa: F401
from . import eca  # noqa: F401
from . import stsm  # noqa: F401
from . import p3d  # noqa: F401
from . import r2plus1d  # noqa: F401
from . import cost  # noqa: F401
from . import tsi  # noqa: F401
from . import ean  # noqa: F401
from . import bqn  # noqa: F401
from . import sta  # noqa: F401
from .selfy import (
    SELFYBlock,
    STSSExtraction,
    STSSIntegration,  # noqa: F401
    STSSTransformation,
)
