"""Recognizer heads where MMAction2's are not enough."""
from .tcp import TCPHead  # noqa: F401,E402
