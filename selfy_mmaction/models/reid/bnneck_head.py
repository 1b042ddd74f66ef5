"""BNNeck re-identification head (Luo et al., "Bag of Tricks and a Strong
Baseline for Deep Person Re-identification", CVPRW 2019)."""

from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.model import BaseModule

Feats = Union[torch.Tensor, Sequence[torch.Tensor]]


@MODELS.register_module()
class BNNeckHead(BaseModule):
    """Pooled feature -> BatchNorm1d (the BNNeck) -> bias-free classifier.

    The triplet loss sees the feature before the BN, the ID loss
    (cross-entropy with label smoothing) the logits of the feature after it.
    The test embedding is the BN output (``embedding='after'``) or the
    feature before it (``'before'``).

    Args:
        in_channels (int): Feature channels ``D``.
        num_classes (int): Training identities.
        label_smoothing (float): Of the ID cross-entropy. Defaults to 0.1.
        id_loss_weight (float): Factor on the ID loss. Defaults to 1.0.
        loss_triplet (dict, optional): Metric loss on the pre-BN feature
            (None: none). Defaults to ``BatchHardTripletLoss`` with margin
            0.3.
        embedding (str): ``'after'`` or ``'before'`` the BN. Defaults to
            ``'after'``.
        init_std (float): Std of the classifier's normal init. Defaults to
            0.001.
        num_segments (int): Rows per clip in the backbone output, averaged
            (1 for a clip-level backbone; T for a per-frame one such as
            ``MSTAT``). Defaults to 1.

    Input: ``(N*V*S, D)`` or ``(N*V*S, D, ...)`` (averaged over the trailing
    axes) with S = ``num_segments``: the S rows of a clip and the V views
    (clips) of a sample are consecutive and averaged; a tuple of features
    uses its last.
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        label_smoothing: float = 0.1,
        id_loss_weight: float = 1.0,
        loss_triplet: Optional[dict] = dict(
            type='BatchHardTripletLoss', margin=0.3
        ),
        embedding: str = 'after',
        init_std: float = 0.001,
        num_segments: int = 1,
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if embedding not in ('after', 'before'):
            raise ValueError(
                f"embedding must be 'after' or 'before', got {embedding!r}"
            )
        if not 0 <= label_smoothing < 1:
            raise ValueError(
                f'label_smoothing must be in [0, 1), got {label_smoothing}'
            )
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.label_smoothing = label_smoothing
        self.id_loss_weight = id_loss_weight
        self.loss_triplet = (
            MODELS.build(loss_triplet) if loss_triplet else None
        )
        self.embedding = embedding
        self.init_std = init_std
        if num_segments < 1:
            raise ValueError(f'num_segments must be >= 1, got {num_segments}')
        self.num_segments = num_segments
        self.bnneck = nn.BatchNorm1d(in_channels)
        self.bnneck.bias.requires_grad_(False)  # no shift (BNNeck)
        self.classifier = nn.Linear(in_channels, num_classes, bias=False)

    def init_weights(self) -> None:
        super().init_weights()
        nn.init.normal_(self.classifier.weight, std=self.init_std)

    def pool(self, feats: Feats, num_views: int = 1) -> torch.Tensor:
        """Backbone output -> ``(N, D)``."""
        if isinstance(feats, (tuple, list)):
            feats = feats[-1]
        if feats.dim() > 2:
            feats = feats.flatten(2).mean(-1)
        if feats.dim() != 2 or feats.shape[1] != self.in_channels:
            raise ValueError(
                f'expected features (N*V*S, {self.in_channels})'
                f' or (N*V*S, {self.in_channels}, ...), got '
                f'{tuple(feats.shape)}'
            )
        rows = num_views * self.num_segments
        if feats.shape[0] % rows:
            raise ValueError(
                f'{feats.shape[0]} feature rows are not a '
                f'multiple of num_views={num_views} x '
                f'num_segments={self.num_segments}'
            )
        return feats.view(-1, rows, self.in_channels).mean(1)

    def forward(
        self, feats: Feats, num_views: int = 1
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Returns the pre-BN feature ``(N, D)`` and the ID logits
        ``(N, num_classes)``."""
        feat = self.pool(feats, num_views)
        return feat, self.classifier(self.bnneck(feat))

    def loss(
        self, feats: Feats, data_samples, num_views: int = 1, **kwargs
    ) -> dict:
        """ID (+ triplet) losses and the batch's ID accuracy."""
        feat, logits = self(feats, num_views)
        labels = torch.stack([ds.gt_label for ds in data_samples]).view(-1)
        labels = labels.to(logits.device, torch.long)
        bad = (labels < 0) | (labels >= self.num_classes)
        if bad.any():
            raise ValueError(
                f'identity labels must be in [0, num_classes='
                f'{self.num_classes}) (relabel=True in the '
                f'training TrackletDataset), got '
                f'{labels[bad].tolist()}'
            )
        losses = dict(
            loss_id=self.id_loss_weight
            * F.cross_entropy(
                logits, labels, label_smoothing=self.label_smoothing
            )
        )
        if self.loss_triplet is not None:
            losses['loss_triplet'] = self.loss_triplet(feat, labels)
        losses['id_acc'] = (logits.argmax(1) == labels).float().mean()
        return losses

    def predict(
        self, feats: Feats, data_samples, num_views: int = 1, **kwargs
    ):
        """Set each data sample's ``embedding`` ``(D, )``."""
        feat = self.pool(feats, num_views)
        if self.embedding == 'after':
            feat = self.bnneck(feat)
        for ds, emb in zip(data_samples, feat):
            ds.set_field(emb, 'embedding')
        return data_samples
