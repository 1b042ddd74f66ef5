"""MMAction2's TSMHead, refusing clips whose frame count does not fit."""

import torch
from mmaction.models.heads import TSMHead
from mmaction.registry import MODELS


@MODELS.register_module()
class CheckedTSMHead(TSMHead):
    """``TSMHead`` that checks the frames per sample it is given.

    ``TSMHead.forward`` reshapes its ``N*F`` frame scores by its own
    ``num_segments`` T and ignores the frames per sample F that
    ``Recognizer2D`` passes. When F is not a multiple of T but ``N*F`` is
    (e.g. 2 clips of 12 frames, T=8), test-time predictions come out silently
    wrong (3 scores shared out to 2 samples) and training fails with an
    unrelated broadcast error. This head raises a clear error instead:
    training takes exactly T frames per sample (one view), testing a multiple
    of T (several clips or crops). Weights, arguments and outputs are
    ``TSMHead``'s.

    Args:
        **kwargs: ``TSMHead`` arguments.
    """

    def forward(
        self, x: torch.Tensor, num_segs: int, **kwargs
    ) -> torch.Tensor:
        """Class scores ``(N * views, num_classes)`` of frame features
        ``(N * num_segs, C, H, W)``; ``num_segs`` is the frames per sample."""
        if not isinstance(num_segs, int):  # traced (ONNX export)
            return super().forward(x, num_segs, **kwargs)
        if self.training and num_segs != self.num_segments:
            expected = f'exactly num_segments={self.num_segments}'
        elif num_segs % self.num_segments:
            expected = f'a multiple of num_segments={self.num_segments}'
        else:
            return super().forward(x, num_segs, **kwargs)
        mode = 'training' if self.training else 'testing'
        raise ValueError(
            f'{type(self).__name__}: each sample has {num_segs} frames '
            f'(features of shape {tuple(x.shape)}); {mode} needs {expected} '
            f"frames per sample: set the pipeline's SampleFrames clip_len * "
            f'num_clips (times the crops when testing) accordingly'
        )
