"""TSMHead for TDN's snippet input."""

from mmaction.registry import MODELS

from .checked_tsm_head import CheckedTSMHead


@MODELS.register_module()
class TDNHead(CheckedTSMHead):
    """``TSMHead`` for a backbone that turns each ``snippet_len``-frame
    snippet into one feature map (:class:`TDNResNet`).

    ``Recognizer2D`` passes the frames per sample
    (``num_segments * snippet_len`` per view); the backbone returns one map
    per segment. The head converts the count to segments, so the frame check
    of :class:`CheckedTSMHead` sees ``num_segments`` per view. Everything
    else is ``TSMHead``.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Feature channels.
        snippet_len (int): Frames per segment. Defaults to 5.
        **kwargs: ``TSMHead`` arguments (``num_segments``, ``dropout_ratio``
            ...).
    """

    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        snippet_len: int = 5,
        **kwargs,
    ):
        super().__init__(num_classes, in_channels, **kwargs)
        self.snippet_len = snippet_len

    def forward(self, x, num_segs: int, **kwargs):
        if num_segs % self.snippet_len:
            raise ValueError(
                f'TDNHead: each sample has {num_segs} frames, not a multiple '
                f'of snippet_len={self.snippet_len}'
            )
        return super().forward(x, num_segs // self.snippet_len, **kwargs)
