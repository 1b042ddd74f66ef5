# The TSM-R50 SSv1 baseline (data, recipe, head:
# configs/tsm/tsm_imagenet-pretrained-r50_8xb8-1x1x8-50e_sthv1-rgb.py) for the
# configs that put blocks into ResNet-50: the segment count (8) is passed to
# the backbone and the head; the backbone takes blocks, with the TSM shift
# (ResNetTSMWithBlocks; a config without the shift sets ResNetWithBlocks).
# A config sets its blocks.
_base_ = '../tsm/tsm_imagenet-pretrained-r50_8xb8-1x1x8-50e_sthv1-rgb.py'

model = dict(
    backbone=dict(type='ResNetTSMWithBlocks', num_segments=8),
    cls_head=dict(num_segments=8),
)
