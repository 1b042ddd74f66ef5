# The motion32 recognition recipe of r3d18-tiny-tgn_1x8x2-15e_motion32-rgb.py,
# starting from the backbone pretrained (without labels) by the playback-speed
# pretext config speedorder_r3d18-tiny-tgn_8fx4clips-12e_motion32-pretext.py.
#
# Loading: MMAction2's ResNet3d overrides init_weights and ignores its
# `init_cfg`, so `backbone.init_cfg=dict(type='Pretrained', ...,
# prefix='backbone.')` would silently load nothing. The runner's `load_from`
# loads the whole pretext checkpoint after the weight init instead: every
# backbone key matches; the pretext head keys (cls_head.pair_fc/fc_order) are
# reported as unexpected and the new I3DHead (cls_head.fc_cls) as missing.
_base_ = ['./r3d18-tiny-tgn_1x8x2-15e_motion32-rgb.py']

load_from = (
    'work_dirs/speedorder_r3d18-tiny-tgn_8fx4clips-12e_motion32-'
    'pretext/epoch_12.pth'
)
