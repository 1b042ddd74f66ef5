"""CoST's 3D backbone (Li, Zhong, Xie, Pu, CVPR 2019), the authors' form
for Recognizer3D: MMAction2's ``ResNet3d`` with 1x1x1 conv1 and 1x3x3 conv2
everywhere (``inflate=0``) and conv2 replaced by
:class:`~selfy_mmaction.models.blocks.cost.CoSTConv` in the marked blocks;
the inherited ``with_pool2`` (temporal max-pool /2 after res2) is kept, as
the authors. The block and the 2D recipe are in ``models/blocks/cost.py``.
"""

from typing import Optional, Sequence

from mmaction.models.backbones.resnet3d import ResNet3d
from mmaction.registry import MODELS

from ..blocks.cost import COST_INDICES_R50, CoSTConv


@MODELS.register_module()
class ResNet3dCoST(ResNet3d):
    """The authors' CoST network: MMAction2's ResNet3d (Recognizer3D) with
    1x1x1 conv1 and 1x3x3 conv2 in every bottleneck and conv2 replaced by
    :class:`CoSTConv` where ``cost_indices`` is 1.

    Args:
        depth (int): 50, 101 or 152 (bottlenecks). Defaults to 50.
        variant (str): ``'a'`` or ``'b'``. Defaults to ``'a'``.
        cost_indices (Sequence[Sequence[int]]): 0/1 per block and stage.
            Defaults to :data:`COST_INDICES_R50`.
        cost_cfg (dict, optional): Further :class:`CoSTConv` arguments.
        **kwargs: ``ResNet3d`` arguments except ``inflate`` (``pretrained``,
            ``pretrained2d``, ``conv1_kernel``, ``with_pool2`` ...).

    Input ``(N, 3, T, H, W)``; output as ``ResNet3d``.
    """

    def __init__(
        self,
        depth: int = 50,
        variant: str = 'a',
        cost_indices: Sequence[Sequence[int]] = COST_INDICES_R50,
        cost_cfg: Optional[dict] = None,
        **kwargs,
    ):
        if 'inflate' in kwargs:
            raise ValueError(
                'ResNet3dCoST fixes inflate=0 (1x1x1 conv1, '
                '1x3x3 conv2); choose blocks with cost_indices'
            )
        if depth < 50:
            raise ValueError(
                f'ResNet3dCoST needs bottlenecks (depth >= '
                f'50), got depth={depth}'
            )
        super().__init__(depth=depth, inflate=0, **kwargs)
        stages = [getattr(self, name) for name in self.res_layers]
        shape = tuple(len(stage) for stage in stages)
        if tuple(len(row) for row in cost_indices) != shape:
            raise ValueError(
                f'cost_indices must have {shape} entries per '
                f'stage, got {tuple(map(tuple, cost_indices))}'
            )
        self.variant = variant
        self.cost_indices = tuple(tuple(row) for row in cost_indices)
        for stage, row in zip(stages, self.cost_indices):
            for block, flag in zip(stage, row):
                if flag:
                    block.conv2 = CoSTConv(
                        block.conv2, variant=variant, **(cost_cfg or {})
                    )

    def _cost_blocks(self):
        return [
            block
            for name in self.res_layers
            for block in getattr(self, name)
            if isinstance(block.conv2, CoSTConv)
        ]

    def inflate_weights(self, logger):
        """Inflate ImageNet 2D weights as ResNet3d, which maps keys by
        ``ConvModule`` name: it sees the plain conv2 modules meanwhile."""
        blocks = self._cost_blocks()
        costs = [block.conv2 for block in blocks]
        for block, cost in zip(blocks, costs):
            block.conv2 = cost.net
        try:
            super().inflate_weights(logger)
        finally:
            for block, cost in zip(blocks, costs):
                block.conv2 = cost

    def init_weights(self, pretrained: Optional[str] = None):
        """ResNet3d's init or ImageNet inflation, then the view coefficients
        (kept as loaded when a full 3D checkpoint is loaded)."""
        super().init_weights(pretrained)
        if self.pretrained is None or self.pretrained2d:
            for block in self._cost_blocks():
                block.conv2.init_weights()
