# Fine-tuning on UCF101 split 1 from the playback-speed pretext checkpoint of
# speedorder_r2plus1d-r18-tgn_8xb8-4x16x1-120e_ucf101-pretext.py: the scratch
# config plus `load_from` (MMAction2's ResNet3d family ignores a backbone
# `init_cfg`; the runner's `load_from` fills every backbone key, reports the
# pretext head keys as unexpected and leaves the new I3DHead initialised).
_base_ = ['./r2plus1d-r18-tgn_scratch_8xb30-16x1x1-45e_ucf101-rgb.py']

load_from = (
    'work_dirs/speedorder_r2plus1d-r18-tgn_8xb8-4x16x1-120e_'
    'ucf101-pretext/epoch_120.pth'
)
