"""The package version (CHANGELOG.md says when it changes)."""

__version__ = '0.1.0'
