# SELFYNet-TSM-R50 for 16 segments (the block's window as the 8-segment
# base: (5, 9, 9), as the official code).
_base_ = './selfy_tsm_r50.py'

model = dict(backbone=dict(num_segments=16), cls_head=dict(num_segments=16))
