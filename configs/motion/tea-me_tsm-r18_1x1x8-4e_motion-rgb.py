# TEA's motion excitation on TSM-ResNet-18, from scratch on the embedded
# motion dataset: TEAMotionExcitation after conv1 of every basic block.
# TEA's other half, MTA, is built from Res2Net fragments (TEARes2Net,
# bottlenecks only); on ResNet-18 the TSM shift stands in for it (MTA's last
# fragment is a shift-initialised temporal conv). The matching baseline is
# configs/tsm/tsm_r18_1x1x8-4e_motion-rgb.py: only the ME blocks differ.
_base_ = ['../tsm/tsm_r18_1x1x8-4e_motion-rgb.py']

model = dict(
    backbone=dict(
        blocks=[
            dict(
                cfg=dict(type='TEAMotionExcitation', reduction=16),
                position='after_conv1',
                layers=('layer1', 'layer2', 'layer3', 'layer4'),
            )
        ]
    )
)
