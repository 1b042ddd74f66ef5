# BQN (quiet + busy TSM-ResNet-18 with laterals after every basic block, from
# scratch) on the embedded motion dataset (64 px, 8 segments of 3 frames).
# Inputs must keep layer3 maps larger than 3 px (reflect padding of the 7x7
# feature LoG): 64 px gives 4x4.
_base_ = ['./bqn-busy_r18_3x1x8-4e_motion-rgb.py']

# the busy network's backbone settings (depth 18, shift 1/8, 8 segments, no
# pretraining) as BQNResNet, without the blocks list it does not take
model = dict(
    backbone=dict(
        {k: v for k, v in _base_.model.backbone.items() if k != 'blocks'},
        _delete_=True,
        type='BQNResNet',
        lateral_kernel_sizes=(7, 7, 7, 3),
    )
)
