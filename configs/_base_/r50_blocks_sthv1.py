# The TSM-R50 SSv1 baseline (data, recipe, head:
# configs/tsm/tsm_imagenet-pretrained-r50_8xb8-1x1x8-50e_sthv1-rgb.py) for the
# configs that put blocks into ResNet-50: the segment count (8) is passed to
# the backbone and the head. A config sets the backbone type
# (ResNetWithBlocks, or ResNetTSMWithBlocks with the TSM shift) and its blocks.
_base_ = '../tsm/tsm_imagenet-pretrained-r50_8xb8-1x1x8-50e_sthv1-rgb.py'

model = dict(backbone=dict(num_segments=8), cls_head=dict(num_segments=8))
