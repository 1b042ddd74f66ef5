"""Recognizer heads where MMAction2's are not enough."""

from .checked_tsm_head import CheckedTSMHead  # noqa: F401
from .speed_order import SpeedOrderHead  # noqa: F401
from .tcp import TCPHead  # noqa: F401
from .tdn_head import TDNHead  # noqa: F401
