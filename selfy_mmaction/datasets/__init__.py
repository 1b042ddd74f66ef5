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
from .patch_shuffle import TemporalPatchShuffle
from .samplers import IdentityBatchSampler
from .tracklets import (
    GeneratedTrackletDataset,
    TrackletDataset,
    TrackletDatasetSpec,
    generate_tracklet_dataset,
)
from .transforms import PlaybackSpeedSampleFrames

__all__ = [
    'MOTION_CLASSES',
    'MOTION_PAIRS',
    'AnnotationError',
    'CheckedRawframeDataset',
    'CheckedVideoDataset',
    'DatasetNotPreparedError',
    'GeneratedTrackletDataset',
    'IdentityBatchSampler',
    'MotionDatasetSpec',
    'MotionVideoDataset',
    'PlaybackSpeedSampleFrames',
    'SampleLoadError',
    'TemporalPatchShuffle',
    'TrackletDataset',
    'TrackletDatasetSpec',
    'generate_motion_dataset',
    'generate_tracklet_dataset',
    'render_clip',
]
