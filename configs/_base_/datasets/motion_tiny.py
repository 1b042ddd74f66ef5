# The embedded motion dataset (selfy_mmaction.datasets.motion) as the 2D
# recognizers see it: 8 segments of 1 frame at 48 px (motion_videos.py), with
# the segment count as a variable for the tools and tests that read it.
_base_ = './motion_videos.py'

num_segments = 8  # the pipelines' SampleFrames num_clips
