"""selfy-mmaction: SELFY and a zoo of motion modules for MMAction2.

Importing the package registers every module of ours into MMAction2's
registries (``default_scope='mmaction'``) and replaces nothing of stock torch,
MMEngine or MMAction2; the three version-gated import-time changes the pinned
stack needs are listed in ``selfy_mmaction.utils.stack`` and docs/stack.md.
"""

from .utils.stack import apply_stack_repairs

apply_stack_repairs()

from . import datasets, engine, evaluation, models, ops  # noqa: E402,F401
from .version import __version__  # noqa: E402

__all__ = ['__version__']
