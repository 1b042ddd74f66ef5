# TCP (Gao et al., "Temporal-attentive Covariance Pooling Networks for Video
# Recognition", NeurIPS 2021) on TSN-ResNet-50, 8 frames, Something-Something
# V1. The last ResNet stage runs at stride 1 (14x14 maps at 224 px) and
# TCPHead (reduction 2048->256->128, TSA+TCA+temporal conv, one 128x128
# covariance per clip, 3 Newton-Schulz iterations, 8256-d fc input) replaces
# GAP+fc. Data and schedule: the shared SSv1 base and SGD 50e schedule (the
# same settings as the TSM/SELFY configs); the head trains at lr x5 (its BN
# included, with weight decay). The TCP authors' own recipe differs (lr 0.015
# at batch 96, steps 20/40, wd 1e-4, ImageNet GCP init).
_base_ = [
    'mmaction::_base_/models/tsn_r50.py',
    '../_base_/datasets/sthv1_rgb_8f.py',
    '../_base_/tcp_recipe.py',
]

num_segments = 8
model = dict(
    backbone=dict(strides=(1, 2, 2, 1)),
    cls_head=dict(_base_.tcp_head, _delete_=True),
)
