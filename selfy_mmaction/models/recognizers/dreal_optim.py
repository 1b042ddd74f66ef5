"""Two optimisers for DREAL: the actor (the recognizer) and the critic."""

import torch.nn as nn
from mmaction.registry import OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.optim import OptimWrapperDict

from .dreal import _unwrap


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class DREALOptimWrapperConstructor:
    """Build ``OptimWrapperDict(actor=..., critic=...)`` for
    :class:`DREALRecognizer2D`.

    ``optim_wrapper_cfg`` has the keys ``actor`` and ``critic``, each an
    ordinary optim-wrapper config (``type``, ``optimizer``, ``clip_grad``,
    ``paramwise_cfg`` and an optional ``constructor``, by default
    ``DefaultOptimWrapperConstructor``). The actor's optimiser gets every
    parameter of the model except the critic's (parameter names as in the
    model, so ``paramwise_cfg.custom_keys`` work unchanged); the critic's
    gets the critic's. Schedulers: ``param_scheduler=dict(actor=[...],
    critic=[...])``.

    Args:
        optim_wrapper_cfg (dict): ``dict(actor=..., critic=...)``.
        paramwise_cfg (dict, optional): Must be None: give it inside
            ``actor`` / ``critic``.
    """

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg=None):
        if paramwise_cfg is not None:
            raise ValueError(
                'DREALOptimWrapperConstructor: give '
                'paramwise_cfg inside optim_wrapper.actor / '
                '.critic'
            )
        keys = set(optim_wrapper_cfg)
        if keys != {'actor', 'critic'}:
            raise ValueError(
                f'DREALOptimWrapperConstructor expects exactly '
                f"the keys 'actor' and 'critic', got "
                f'{sorted(keys)}'
            )
        self.optim_wrapper_cfg = optim_wrapper_cfg

    @staticmethod
    def _build(cfg: dict, module: nn.Module):
        cfg = dict(cfg)
        constructor = cfg.pop('constructor', 'DefaultOptimWrapperConstructor')
        paramwise_cfg = cfg.pop('paramwise_cfg', None)
        return OPTIM_WRAPPER_CONSTRUCTORS.build(
            dict(
                type=constructor,
                optim_wrapper_cfg=cfg,
                paramwise_cfg=paramwise_cfg,
            )
        )(module)

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        model = _unwrap(model)
        if 'critic' not in model._modules:
            raise ValueError(
                f'DREALOptimWrapperConstructor needs a model '
                f'with a critic (DREALRecognizer2D), got '
                f'{type(model).__name__}'
            )
        actor = nn.ModuleDict(
            {
                name: child
                for name, child in model.named_children()
                if name != 'critic'
            }
        )
        return OptimWrapperDict(
            actor=self._build(self.optim_wrapper_cfg['actor'], actor),
            critic=self._build(
                self.optim_wrapper_cfg['critic'], _unwrap(model.critic)
            ),
        )
