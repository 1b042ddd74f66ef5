# CoST(a)-ResNet-18 on the embedded motion dataset (from scratch, 48 px,
# 8 frames): the TSM-R18 motion config without the shift, with the 3x3 conv1
# of half of the basic blocks (the second block of res2, the first of res3,
# res4 and res5: our choice, the authors give no ResNet-18 pattern)
# convolving the H-W, T-W and T-H views with one shared kernel.
# CoST(a): view coefficients = softmax over views of a learned (3, C_out)
# parameter, initialised 0.7 (H-W) / -0.7 (T-W, T-H).
_base_ = ['../tsm/tsm_r18_1x1x8-4e_motion-rgb.py']

model = dict(
    backbone=dict(
        is_shift=False,
        blocks=[
            dict(
                cfg=dict(type='CoSTConv', variant='a'),
                position='wrap_conv1',
                layers=('layer1', 'layer2', 'layer3', 'layer4'),
                indices=((0, 1), (1, 0), (1, 0), (1, 0)),
            )
        ],
    )
)
