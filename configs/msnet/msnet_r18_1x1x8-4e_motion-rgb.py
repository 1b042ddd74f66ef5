# MSNet on TSM-ResNet-18 (from scratch) on the embedded motion dataset
# (48 px, 8 frames); the matching baseline is
# configs/tsm/tsm_r18_1x1x8-4e_motion-rgb.py. The res3 map is 8x8 here, so
# the matching window and the Gaussian shrink with it (radius 3, sigma 2).
_base_ = ['../tsm/tsm_r18_1x1x8-4e_motion-rgb.py']

model = dict(
    backbone=dict(
        blocks=[
            dict(
                cfg=dict(
                    type='MotionSqueezeBlock',
                    reduced_channels=64,
                    radius=3,
                    sigma=2.0,
                    temperature=100.0,
                ),
                position='after_stage',
                layers=('layer2',),
            )
        ]
    )
)
