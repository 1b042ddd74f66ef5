# CoST(b)-ResNet-18 on the embedded motion dataset (from scratch, 48 px,
# 8 frames): the TSM-R18 motion config without the shift, with the 3x3 conv1
# of half of the basic blocks (the second block of res2, the first of res3,
# res4 and res5: our choice, the authors give no ResNet-18 pattern)
# convolving the H-W, T-W and T-H views with one shared kernel.
# CoST(b): per-sample view coefficients from the max-pooled views (FC
# C_out->C_out shared by the views, FC 3->3 across views, softmax).
# Everything else as the CoST(a) config it inherits.
_base_ = './cost-a_r18_1x1x8-4e_motion-rgb.py'

# the CoST(a) config's entry with variant 'b'
model = dict(
    backbone=dict(
        blocks=[
            dict(block, cfg=dict(block.cfg, variant='b'))
            for block in _base_.model.backbone.blocks
        ]
    )
)
