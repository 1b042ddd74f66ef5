from .motion import (MOTION_CLASSES, MOTION_PAIRS, MotionDatasetSpec,
                     MotionVideoDataset, generate_motion_dataset, render_clip)

__all__ = [
    'MOTION_CLASSES', 'MOTION_PAIRS', 'MotionDatasetSpec',
    'MotionVideoDataset', 'generate_motion_dataset', 'render_clip'
]
from .checked import (AnnotationError, CheckedRawframeDataset,  # noqa: E402
                      CheckedVideoDataset, SampleLoadError)

__all__ += [
    'AnnotationError', 'CheckedRawframeDataset', 'CheckedVideoDataset',
    'SampleLoadError'
]
from .transforms import PlaybackSpeedSampleFrames  # noqa: F401,E402
from .patch_shuffle import TemporalPatchShuffle  # noqa: F401,E402
