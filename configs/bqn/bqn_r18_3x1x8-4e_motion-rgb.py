# BQN (quiet + busy TSM-ResNet-18 with laterals after every basic block, from
# scratch) on the embedded motion dataset (64 px, 8 segments of 3 frames).
# Inputs must keep layer3 maps larger than 3 px (reflect padding of the 7x7
# feature LoG): 64 px gives 4x4.
_base_ = ['./bqn-busy_r18_3x1x8-4e_motion-rgb.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='BQNResNet',
        depth=18,
        num_segments=8,
        shift_div=8,
        pretrained=None,
        pretrained2d=False,
        norm_eval=False,
        lateral_kernel_sizes=(7, 7, 7, 3),
    )
)
