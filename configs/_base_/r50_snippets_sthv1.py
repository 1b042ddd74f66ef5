# The TSM-R50 SSv1 recipe on snippets (data: datasets/sthv1_rgb_5x1x8.py, 8
# segments of 5 consecutive frames) for the configs whose network sees the
# frames of a segment (TDN, EAN, BQN's busy network): 8 segments in the
# backbone, and TDNHead, the TSMHead that counts the frames of a snippet as
# one segment. A config sets its backbone.
_base_ = [
    './models/tsm_r50.py',
    './datasets/sthv1_rgb_5x1x8.py',
    './selfy_recipe.py',
]

model = dict(
    backbone=dict(num_segments=8),
    cls_head=dict(
        type='TDNHead', num_classes=174, num_segments=8, snippet_len=5
    ),
)
