# BQN-R50 (Huang & Bors, arXiv 2103.15584, WACV 2022; the official
# bqn_resnet.py), 8 segments of 3 frames, Something-Something V1.
# Two TSM-R50 pathways with their own stems and ImageNet weights each: quiet
# (first frame of each segment) and busy (the input MBPM's band-passed frame,
# as bqn-busy_*). After every pair of bottlenecks
# quiet += 1x1conv+BN(busy) and busy += 1x1conv+BN(MBPM(quiet)) (feature
# MBPM: LoG sigma 0.9, 7x7, 3x3 in layer4, temporal [-1, 2, -1]/3 over the
# segments with replicate padding); the lateral BNs start at gamma = beta = 0
# so each pathway starts as its plain network. The backbone returns the mean
# of the two pathways; with one shared FC this is the official average of the
# two pathways' logits (dropout: one mask for the mean).
_base_ = ['./bqn-busy_imagenet-pretrained-r50_8xb8-3x1x8-50e_sthv1-rgb.py']

# the busy network's backbone settings (ImageNet ResNet-50, shift 1/8, 8
# segments) as BQNResNet: its band-pass becomes the input MBPM's, plus the
# laterals; ImageNet weights are loaded into both pathways
model = dict(
    backbone=dict(
        {k: v for k, v in _base_.model.backbone.items() if k != 'band_pass'},
        _delete_=True,
        type='BQNResNet',
        input_band_pass=_base_.model.backbone.band_pass,
        lateral_sigma=0.9,
        lateral_kernel_sizes=(7, 7, 7, 3),
    )
)
