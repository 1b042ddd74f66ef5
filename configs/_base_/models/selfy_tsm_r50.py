# SELFYNet-TSM-R50 (Kwon et al., "Learning Self-Similarity in Space and Time
# as Generalized Motion for Video Action Recognition", ICCV 2021): MMAction2's
# TSM-R50 (shift in every bottleneck, shift_div 8) with one SELFY block after
# res3 (`layer2`), 8 segments, 174 classes (Something-Something).
# The head is MMAction2's TSMHead unchanged: average pool, dropout 0.5, FC,
# average over segments, as the official head.
# The block's settings are one --cfg-options key each (tools/train.py,
# tools/test.py; keys index the `blocks` list):
#   window (L, U, V):  model.backbone.blocks.0.cfg.window="(9,9,9)"
#   channels:          model.backbone.blocks.0.cfg.hidden_channels=64
#   position:          model.backbone.blocks.0.layers="(layer3,)"
# tools/convert_official_selfy.py reads the block from the config it is given.
_base_ = './tsm_r50.py'


model = dict(
    backbone=dict(
        type='ResNetTSMWithBlocks',
        num_segments=8,
        # in_channels (512 after layer2) and num_segments are filled in by
        # the backbone
        blocks=[
            dict(
                cfg=dict(type='SELFYBlock', window=(5, 9, 9)),
                position='after_stage',
                layers=('layer2',),
            )
        ],
    ),
    cls_head=dict(num_classes=174, num_segments=8),
)
