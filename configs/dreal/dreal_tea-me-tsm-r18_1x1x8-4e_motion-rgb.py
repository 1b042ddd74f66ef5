# DREAL (Li & Chen, ECCV 2020) on TEA-ME-TSM-ResNet-18 (TEA's motion
# excitation after conv1 of every basic block), embedded motion dataset: the
# critic scores the 8 motion-excitation maps; the recognizer is optimised with
# CE - lambda * Q. Test time is the plain recognizer (the critic is not used).
# The baseline with identical settings is
# configs/motion/tea-me_tsm-r18_1x1x8-4e_motion-rgb.py.
_base_ = ['./dreal_eca-tsm-r18_1x1x8-4e_motion-rgb.py']

model = dict(
    attention=['TEAMotionExcitation'],
    backbone=dict(
        blocks=[
            dict(
                cfg=dict(type='TEAMotionExcitation', reduction=16),
                position='after_conv1',
                layers=('layer1', 'layer2', 'layer3', 'layer4'),
            )
        ]
    ),
)
