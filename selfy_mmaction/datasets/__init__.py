from .motion import (
    MOTION_CLASSES,
    MOTION_PAIRS,
    MotionDatasetSpec,
    MotionVideoDataset,
    generate_motion_dataset,
    render_clip,
)

__all__ = [
    'MOTION_CLASSES',
    'MOTION_PAIRS',
    'MotionDatasetSpec',
    'MotionVideoDataset',
    'generate_motion_dataset',
    'render_clip',
]
from .checked import (
    AnnotationError,
    CheckedRawframeDataset,  # noqa: E402
    CheckedVideoDataset,
    DatasetNotPreparedError,
    SampleLoadError,
)

__all__ += [
    'AnnotationError',
    'CheckedRawframeDataset',
    'CheckedVideoDataset',
    'DatasetNotPreparedError',
    'SampleLoadError',
]
from .patch_shuffle import TemporalPatchShuffle  # noqa: F401,E402
from .samplers import IdentityBatchSampler  # noqa: F401,E402
from .tracklets import (
    GeneratedTrackletDataset,  # noqa: F401,E402
    TrackletDataset,
    TrackletDatasetSpec,
    generate_tracklet_dataset,
)
from .transforms import PlaybackSpeedSampleFrames  # noqa: F401,E402
