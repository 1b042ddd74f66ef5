from .motion import (MOTION_CLASSES, MOTION_PAIRS, MotionDatasetSpec,
                     MotionVideoDataset, generate_motion_dataset, render_clip)

__all__ = [
    'MOTION_CLASSES', 'MOTION_PAIRS', 'MotionDatasetSpec',
    'MotionVideoDataset', 'generate_motion_dataset', 'render_clip'
]
