"""A tiny training config on generated motion clips, for subprocess runs of
tools/train.py (32 px, 8 frames, 16 training and 8 validation clips)."""

import os
import os.path as osp
import sys

from selfy_mmaction.datasets import MotionDatasetSpec, generate_motion_dataset

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'selfy_tsm_r18_motion.py')
SPEC = dict(
    seed=1, num_train_per_class=2, num_val_per_class=1, num_frames=8, size=32
)


def _pipeline(train):
    sample = dict(
        type='SampleFrames',
        clip_len=1,
        frame_interval=1,
        num_clips=8,
        test_mode=not train,
    )
    crop = (
        [dict(type='RandomResizedCrop', area_range=(0.5, 1.0))]
        if train
        else []
    )
    return [
        dict(type='DecordInit'),
        sample,
        dict(type='DecordDecode'),
        *crop,
        dict(type='Resize', scale=(32, 32), keep_ratio=False),
        dict(type='FormatShape', input_format='NCHW'),
        dict(type='PackActionInputs'),
    ]


def write_tiny_config(
    tmp_path,
    batch_size=2,
    num_workers=2,
    max_epochs=3,
    train_dataset_options='',
):
    """Write the config (and generate its data once); return its path.
    ``train_dataset_options``: extra ``key=value, ...`` for the training
    dataset."""
    data = tmp_path / 'data'
    generate_motion_dataset(str(data), MotionDatasetSpec(**SPEC))

    def loader(split, batch, train):
        options = train_dataset_options if train else ''
        return (
            f'dict(batch_size={batch}, num_workers={num_workers}, '
            f'persistent_workers={num_workers > 0}, dataset=dict('
            f"ann_file='{data}/motion_{split}_list_videos.txt', "
            f"data_prefix=dict(video='{data}/videos'), spec={SPEC!r}, "
            f'pipeline={_pipeline(train)!r}, {options}))'
        )

    cfg = tmp_path / 'tiny.py'
    cfg.write_text(f"""
_base_ = [{CONFIG!r}]
train_dataloader = {loader('train', batch_size, True)}
val_dataloader = {loader('val', 4, False)}
test_dataloader = val_dataloader
train_cfg = dict(max_epochs={max_epochs}, val_interval=1)
param_scheduler = [dict(type='CosineAnnealingLR', T_max={max_epochs},
                        by_epoch=True)]
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=3),
                     logger=dict(interval=1))
""")
    return str(cfg)


def tool_env():
    """One thread per process (the machine is shared; same in every run),
    unbuffered output, the venv's python first on PATH."""
    return dict(
        os.environ,
        PYTHONUNBUFFERED='1',
        OMP_NUM_THREADS='1',
        PATH=osp.dirname(sys.executable)
        + os.pathsep
        + os.environ.get('PATH', ''),
    )
