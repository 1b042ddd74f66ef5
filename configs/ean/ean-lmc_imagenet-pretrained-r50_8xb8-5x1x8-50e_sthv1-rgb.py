# EAN's Latent Motion Code on TSM-R50 (Tian et al., "EAN: Event Adaptive
# Network for Enhanced Action Recognition", IJCV 2022), 8 segments,
# Something-Something V1. Each segment is a snippet of 5 consecutive frames:
# the TSM-ResNet-50 sees the middle one, the LMC (frame differences at half
# resolution -> 16x16 patch tokens -> grouped 3D convs -> 64-channel code at
# the stem's resolution, output projection x0.01 at init) all five; the code
# is added to the stem output before layer1. The rest of EAN (ME, learnable
# shift, relation blocks, sparse-transformer head) is not included.
# Trained with the official SELFY recipe (shared SSv1 data base and SGD 50e
# schedule); EAN's own recipe differs (70 epochs, steps 41/51/61, wd 5e-4).
_base_ = '../_base_/r50_snippets_sthv1.py'

model = dict(
    backbone=dict(
        type='EANResNet',  # ResNetTSM (shift 1/8) + the LMC after the stem
        snippet_len=5,
        motion_code=dict(
            patch_size=16, embed_channels=256, groups=16, out_init_scale=0.01
        ),
    ),
)
