# MMAction2's TSM-R50 (with CheckedTSMHead) for 16 segments.
_base_ = './tsm_r50.py'

model = dict(backbone=dict(num_segments=16), cls_head=dict(num_segments=16))
