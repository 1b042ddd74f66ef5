# Entry config named in the design card: SELFYNet-TSM-R50, 8 frames,
# Something-Something V1, official SELFY recipe. It is the MMAction2-named
# config below, unchanged.
_base_ = './selfy/selfy_imagenet-pretrained-r50_8xb8-1x1x8-50e_sthv1-rgb.py'
