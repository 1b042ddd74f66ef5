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

model = dict(
    backbone=dict(
        _delete_=True,
        type='BQNResNet',
        depth=50,
        num_segments=8,
        pretrained='torchvision://resnet50',  # loaded into both pathways
        norm_eval=False,
        shift_div=8,
        input_band_pass=dict(sigma=1.1, kernel_size=9),
        lateral_sigma=0.9,
        lateral_kernel_sizes=(7, 7, 7, 3),
    )
)
