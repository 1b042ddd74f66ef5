"""Recognizer heads where MMAction2's are not enough."""
