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
_base_ = [
    '../_base_/models/tsm_r50.py',
    '../_base_/datasets/sthv1_rgb_8f.py',
    '../_base_/selfy_recipe.py'
]

model = dict(
    backbone=dict(
        type='EANResNet',  # ResNetTSM (shift 1/8) + the LMC after the stem
        num_segments=8,
        snippet_len=5,
        motion_code=dict(patch_size=16, embed_channels=256, groups=16,
                         out_init_scale=0.01)),
    # TSMHead that counts the 5 frames of a snippet as one segment
    cls_head=dict(
        type='TDNHead', num_classes=174, num_segments=8, snippet_len=5))

# 5-frame snippets per segment; frames past the end repeat the last one. The
# pipelines are restated because a child's pipeline variables do not reach
# the base's dataloaders.
file_client_args = dict(io_backend='disk')
sthv1_flip_label_map = {2: 4, 4: 2, 30: 41, 41: 30, 52: 66, 66: 52}
snippet_sampling = dict(
    type='SampleFrames',
    clip_len=5,
    frame_interval=1,
    num_clips=8,
    out_of_bound_opt='repeat_last')
train_pipeline = [
    snippet_sampling,
    dict(type='RawFrameDecode', **file_client_args),
    dict(type='Resize', scale=(320, 240), keep_ratio=False),
    dict(
        type='MultiScaleCrop',
        input_size=224,
        scales=(1, 0.875, 0.75, 0.66),
        random_crop=False,
        max_wh_scale_gap=1,
        num_fixed_crops=13),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5, flip_label_map=sthv1_flip_label_map),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(**snippet_sampling, test_mode=True),
    dict(type='RawFrameDecode', **file_client_args),
    dict(type='Resize', scale=(320, 240), keep_ratio=False),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
test_pipeline = val_pipeline

train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
