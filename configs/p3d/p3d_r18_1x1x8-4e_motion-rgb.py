# P3D-ResNet-18 on the embedded motion dataset (from scratch, 48 px,
# 8 frames): the TSM-R18 motion config without the shift, with P3D blocks
# A, B, C cycling through res2-res4 (res5 2D). In a basic block the wrapped
# conv is conv1 (the 3x3 with BN and ReLU, strided in the first block of a
# stage), the analogue of the bottleneck's conv2.
_base_ = ['../tsm/tsm_r18_1x1x8-4e_motion-rgb.py']

p3d_layers = ('layer1', 'layer2', 'layer3')
model = dict(
    backbone=dict(
        is_shift=False,
        blocks=[
            dict(
                cfg=dict(type='P3DBlock', block_type=block_type),
                position='wrap_conv1',
                layers=p3d_layers,
                indices=indices,
            )
            for block_type, indices in zip(
                'ABC',
                (
                    ((1, 0), (0, 1), (0, 0), (0, 0)),
                    ((0, 1), (0, 0), (1, 0), (0, 0)),
                    ((0, 0), (1, 0), (0, 1), (0, 0)),
                ),
            )
        ],
    )
)
