# TDN-ResNet-18 (Wang et al., CVPR 2021) from scratch on the embedded motion
# dataset: TDNResNet at depth 18 (short-term TDM on 5-frame snippets, the
# long-term TDM and the learnable shift after conv1 of every layer2-4 basic
# block), TDNHead. 8 segments of 5 consecutive frames each (frames past the
# end repeat the last one); everything else is the TSM-R18 motion recipe.
_base_ = ['../_base_/models/tsm_r18_motion.py', '../_base_/motion_snippets.py']

# the motion model's backbone settings (depth 18, 8 segments, no
# pretraining) as TDNResNet, without the TSM shift and the blocks list
model = dict(
    backbone=dict(
        {
            k: v
            for k, v in _base_.model.backbone.items()
            if k not in ('blocks', 'shift_div')
        },
        _delete_=True,
        type='TDNResNet',
        snippet_len=5,
        fusion_weights=(0.5, 0.5),
    ),
    cls_head=dict(type='TDNHead', num_segments=8, snippet_len=5),
)
