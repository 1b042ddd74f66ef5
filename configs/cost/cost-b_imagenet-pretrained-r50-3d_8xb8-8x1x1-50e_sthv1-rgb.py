# CoST(b)-R50 in the authors' 3D form (Li et al., CVPR 2019;
# hikvision-research/cost): Recognizer3D on one 8-frame clip,
# Something-Something V1. MMAction2's ResNet3d with a 1x7x7 stem, 1x1x1
# conv1 and 1x3x3 conv2 everywhere, conv2 replaced by CoST(b) in the
# authors' 8 marked bottlenecks (ResNet3dCoST), ImageNet 2D weights inflated
# into it; the inherited temporal max-pool after res2 halves T (8 -> 4), as
# in the authors' network. I3DHead (dropout 0.5).
# Frames: one from each of 8 equal segments (UniformSample, the 3D analogue
# of the 2D models' 1x1x8 sampling); otherwise the official SELFY recipe
# (shared SSv1 data settings and SGD 50e schedule). The authors trained
# on Kinetics/MiT with 8x8x1 clips, 160 epochs.
_base_ = [
    '../_base_/models/recognizer3d_i3d.py',
    '../_base_/datasets/sthv1_rgb_8f.py',
    '../_base_/selfy_recipe.py',
]

# the 3D recognizer (I3DHead, NCTHW input) with the CoST backbone
model = dict(
    backbone=dict(
        type='ResNet3dCoST',
        depth=50,
        variant='b',
        pretrained='torchvision://resnet50',
        pretrained2d=True,
        conv1_kernel=(1, 7, 7),
        conv1_stride_t=1,
        pool1_stride_t=1,
        with_pool2=True,
        norm_eval=False,
        zero_init_residual=False,
    ),
    cls_head=dict(num_classes=174, in_channels=2048),
)

train_pipeline, val_pipeline = (
    [
        dict(
            type='UniformSample',
            clip_len=8,
            **(dict(test_mode=True) if step.get('test_mode') else {}),
        )
        if step.type == 'SampleFrames'
        else dict(step, input_format='NCTHW')
        if step.type == 'FormatShape'
        else step
        for step in pipeline
    ]
    for pipeline in (_base_.train_pipeline, _base_.val_pipeline)
)
test_pipeline = val_pipeline
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
