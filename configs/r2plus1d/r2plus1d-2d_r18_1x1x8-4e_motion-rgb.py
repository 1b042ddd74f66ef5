# (2+1)D-ResNet-18 in the 2D recipe on the embedded motion dataset (from
# scratch, 48 px, 8 frames): the TSM-R18 motion config without the shift,
# every 3x3 conv (conv1 and conv2 of each basic block, as R(2+1)D-18)
# followed by an identity-initialised full 3x1x1 temporal conv on the
# (N, C, T, H, W) view (R2Plus1DConv). MMAction2's own 3D R(2+1)D on the same
# data: r2plus1d_r18_1x1x8-4e_motion-rgb.py.
_base_ = ['../tsm/tsm_r18_1x1x8-4e_motion-rgb.py']

model = dict(
    backbone=dict(
        is_shift=False,
        blocks=[
            dict(
                cfg=dict(type='R2Plus1DConv'),
                position='wrap_conv1',
                layers=('layer1', 'layer2', 'layer3', 'layer4'),
            ),
            dict(
                cfg=dict(type='R2Plus1DConv'),
                position='wrap_conv2',
                layers=('layer1', 'layer2', 'layer3', 'layer4'),
            ),
        ],
    )
)
