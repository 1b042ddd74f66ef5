# STA-TSM-ResNet-18 ("MSTAT-inspired": the spatial-temporal aggregation of
# Tang et al., "Multi-Stage Spatio-Temporal Aggregation Transformer for Video
# Person Re-identification", IEEE TMM 2023, as a CNN block) on the embedded
# motion dataset (from scratch, 48 px, 8 frames): the TSM-R18 motion config
# with one STABlock after res4 (`layer3`, 256 channels, 3x3 maps) and one
# after res5 (`layer4`, 512 channels, 2x2 maps). Each block: 1x1 projection
# to C/4 channels, self-attention among the positions of each frame, then
# among the 8 frames of each position (temporal position embedding), and a
# zero-initialised projection back added to the input (identity at init).
_base_ = ['../tsm/tsm_r18_1x1x8-4e_motion-rgb.py']

model = dict(
    backbone=dict(
        blocks=[
            dict(
                cfg=dict(type='STABlock', reduction=4, num_heads=4),
                position='after_stage',
                layers=('layer3', 'layer4'),
            ),
        ]
    )
)
