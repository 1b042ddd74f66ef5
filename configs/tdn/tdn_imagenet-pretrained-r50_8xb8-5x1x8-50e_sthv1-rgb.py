# TDN (Wang et al., "TDN: Temporal Difference Networks for Efficient Action
# Recognition", CVPR 2021), 8 segments, Something-Something V1.
# Each segment is a snippet of 5 consecutive frames: the ResNet-50 sees the
# centre frame, the short-term TDM the frame differences; long-term TDM and a
# learnable shift after conv1 of every layer2-4 bottleneck. 35.89 GFLOPs and
# 24.03 M parameters per 8x5x224x224 clip (backbone).
# Trained with the official SELFY recipe (shared SSv1 snippet data base and SGD 50e
# schedule); TDN's own recipe differs (60 epochs, steps 30/45/55).
_base_ = '../_base_/r50_snippets_sthv1.py'

model = dict(
    backbone=dict(
        type='TDNResNet',
        snippet_len=5,
        # (rgb, difference) weights of the fusions; (0.75, 0.25) for 16
        fusion_weights=(0.5, 0.5),
    ),
)
