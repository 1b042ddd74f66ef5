# Test protocol 2 clips x 3 crops (256x256, twice_sample + ThreeCrop) for
# tsm_imagenet-pretrained-r50_8xb8-1x1x16-50e_sthv2-rgb.py
# (train and val unchanged).
_base_ = './tsm_imagenet-pretrained-r50_8xb8-1x1x16-50e_sthv2-rgb.py'

test_dataloader = dict(dataset=dict(pipeline={{_base_.test_pipeline_2x3}}))
