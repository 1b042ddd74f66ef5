"""The contract every motion block keeps (SELFY's block aside, see
``selfy.py``): an MMEngine ``BaseModule`` whose ``init_cfg`` is honoured.

``init_weights()`` runs the block's own initialisation,
:meth:`MotionBlock.default_init`: a block that adds to its input (or wraps a
pretrained conv) starts as the identity or with a zero residual output, so
inserting it leaves a pretrained network's output unchanged (each block's
docstring says which parameter is zero). A given ``init_cfg`` (MMEngine's
``dict(type='Kaiming', layer='Conv2d')``, ``dict(type='Pretrained',
checkpoint=..., prefix=...)`` ...) replaces that default. It is applied with
``mmengine.model.initialize`` to the block's layers that it names, and not,
as ``BaseModule.init_weights`` would, by also calling every child's
``init_weights``: that would re-initialise the pretrained ``ConvModule`` a
wrapping block holds as ``net``.
"""

import copy

from mmengine.model import BaseModule, initialize


class MotionBlock(BaseModule):
    """Base class of the motion blocks.

    Args:
        init_cfg (dict | list[dict], optional): Initialisation config that
            replaces :meth:`default_init`. Defaults to None.
    """

    def init_weights(self) -> None:
        """:meth:`default_init`, or ``init_cfg`` when it is given."""
        if self.init_cfg is None:
            self.default_init()
        else:
            initialize(self, copy.deepcopy(self.init_cfg))

    def default_init(self) -> None:
        """The block's own initialisation."""
        raise NotImplementedError(
            f'{type(self).__name__} must implement default_init()'
        )
