"""Recognizer heads where MMAction2's are not enough."""
from .tcp import TCPHead  # noqa: F401,E402
from .speed_order import SpeedOrderHead  # noqa: F401,E402
from .tdn_head import TDNHead  # noqa: F401,E402
