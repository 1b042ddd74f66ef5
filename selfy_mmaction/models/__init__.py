from . import backbones, blocks, heads  # noqa: F401
