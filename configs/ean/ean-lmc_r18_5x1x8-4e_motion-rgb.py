# EAN's Latent Motion Code on TSM-ResNet-18 (from scratch) on the embedded
# motion dataset (64 px, 8 segments of 5 consecutive frames; frames past the
# end repeat the last one). The matching baseline is
# configs/tsm/tsm_r18_1x1x8-4e_motion-rgb.py. At 64 px the code is one
# 2x2 grid of patches per difference (16x16 patches of the 32x32
# half-resolution frames).
_base_ = ['../_base_/models/tsm_r18_motion.py', '../_base_/motion_snippets.py']

model = dict(
    backbone=dict(type='EANResNet', snippet_len=5),
    cls_head=dict(type='TDNHead', snippet_len=5),
)
