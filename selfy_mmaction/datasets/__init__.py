"""Datasets, samplers and transforms, registered in MMAction2's registries."""

from .checked import (
    AnnotationError,
    CheckedRawframeDataset,
    CheckedVideoDataset,
    DatasetNotPreparedError,
    SampleLoadError,
)
from .motion import (
    MOTION_CLASSES,
    MOTION_PAIRS,
    MotionDatasetSpec,
    MotionVideoDataset,
    generate_motion_dataset,
    render_clip,
)
from .motion_suite import (
    SPEED_BINS,
    SUITE_CLASSES,
    MotionSuiteDataset,
    MotionSuiteSpec,
    generate_motion_suite,
)
from .patch_shuffle import TemporalPatchShuffle
from .samplers import IdentityBatchSampler
from .tracklets import (
    GeneratedTrackletDataset,
    TrackletDataset,
    TrackletDatasetSpec,
    generate_tracklet_dataset,
)
from .transforms import MotionCorruption, PlaybackSpeedSampleFrames

__all__ = [
    'MOTION_CLASSES',
    'MOTION_PAIRS',
    'SPEED_BINS',
    'SUITE_CLASSES',
    'AnnotationError',
    'CheckedRawframeDataset',
    'CheckedVideoDataset',
    'DatasetNotPreparedError',
    'GeneratedTrackletDataset',
    'IdentityBatchSampler',
    'MotionCorruption',
    'MotionDatasetSpec',
    'MotionSuiteDataset',
    'MotionSuiteSpec',
    'MotionVideoDataset',
    'PlaybackSpeedSampleFrames',
    'SampleLoadError',
    'TemporalPatchShuffle',
    'TrackletDataset',
    'TrackletDatasetSpec',
    'generate_motion_dataset',
    'generate_motion_suite',
    'generate_tracklet_dataset',
    'render_clip',
]
