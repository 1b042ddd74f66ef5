"""Video person re-identification as an MMAction2 recognizer."""

import torch
from mmaction.models.recognizers.base import BaseRecognizer
from mmaction.registry import MODELS


@MODELS.register_module()
class VideoReID(BaseRecognizer):
    """A video backbone + a re-ID head (e.g. :class:`BNNeckHead`).

    Inputs are ``NCTHW`` clips, ``(N, V, C, T, H, W)`` with V views per
    tracklet (``ActionDataPreprocessor(format_shape='NCTHW')``); the backbone
    gets ``(N*V, C, T, H, W)`` and the head averages the V views. Training
    returns the head's losses; ``predict`` sets each data sample's
    ``embedding`` for :class:`~selfy_mmaction.evaluation.ReIDMetric`.

    Args: those of MMAction2's ``BaseRecognizer`` (``backbone``,
        ``cls_head``, ``neck``, ``data_preprocessor``, ...).
    """

    def extract_feat(
        self,
        inputs: torch.Tensor,
        stage: str = 'neck',
        data_samples=None,
        test_mode: bool = False,
    ):
        """Backbone (+ neck) features and ``dict(num_views=V)`` for the
        head; ``stage='head'`` returns the head's (feature, logits)."""
        if inputs.dim() != 6:
            raise ValueError(
                f'VideoReID expects (N, V, C, T, H, W) inputs '
                f"(format_shape='NCTHW'), got "
                f'{tuple(inputs.shape)}'
            )
        kwargs = dict(num_views=inputs.shape[1])
        x = self.backbone(inputs.flatten(0, 1))
        if self.with_neck:
            x, _ = self.neck(x)
        if stage == 'head':
            return self.cls_head(x, **kwargs), kwargs
        return x, kwargs
