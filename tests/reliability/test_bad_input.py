"""Bad input through a recognizer built from our configs: a clear error
naming the problem, never a silent wrong result."""

import os.path as osp
import re

import pytest
import torch
from mmaction.models.heads import TSMHead
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.registry import init_default_scope

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MODEL_CFG = osp.join(REPO, 'configs', '_base_', 'models', 'tsm_r18_motion.py')


@pytest.fixture(scope='module')
def cfg():
    init_default_scope('mmaction')
    return Config.fromfile(MODEL_CFG)


@pytest.fixture(scope='module')
def recognizer(cfg):
    return MODELS.build(cfg.model)


def _batch(num_clips, frames):
    inputs = list(
        torch.randint(
            0, 256, (num_clips, frames, 3, 32, 32), dtype=torch.uint8
        )
    )
    samples = [ActionDataSample().set_gt_label(1) for _ in range(num_clips)]
    return dict(inputs=inputs, data_samples=samples)


def _loss(recognizer, batch):
    recognizer.train()
    data = recognizer.data_preprocessor(batch, training=True)
    return recognizer(**data, mode='loss')


def _predict(recognizer, batch):
    recognizer.eval()
    return recognizer.test_step(batch)


def test_frames_not_a_multiple_of_num_segments_in_the_batch(recognizer):
    """1 clip of 6 frames, T=8: the backbone's check."""
    for run in (_loss, _predict):
        with pytest.raises(
            ValueError,
            match=r'ResNetTSMWithBlocks: batch dimension 6 of '
            r'input shape \(6, 3, 32, 32\) is not a multiple '
            r'of num_segments=8',
        ):
            run(recognizer, _batch(1, 6))


def test_frames_per_clip_wrong_but_batch_divisible(recognizer):
    """2 clips of 12 frames = 24 = 3 x 8: the backbone cannot tell; the head
    says what is wrong (MMAction2's TSMHead would predict silently)."""
    with pytest.raises(
        ValueError,
        match='CheckedTSMHead: each sample has 12 frames .* '
        'testing needs a multiple of num_segments=8',
    ):
        _predict(recognizer, _batch(2, 12))
    with pytest.raises(
        ValueError,
        match='training needs exactly num_segments=8 frames per sample',
    ):
        _loss(recognizer, _batch(2, 12))


def test_mmaction_tsm_head_alone_is_silently_wrong(recognizer):
    """Why CheckedTSMHead exists: MMAction2's TSMHead (unchanged by the
    plugin) gives 2 samples 3 clip scores, which its predict_by_feat then
    shares out without an error."""
    head = recognizer.cls_head.eval()
    assert type(head).__name__ == 'CheckedTSMHead'
    feats = torch.randn(24, 512, 1, 1)
    scores = TSMHead.forward(head, feats, num_segs=12)
    assert scores.shape == (3, 8)


def test_multi_view_test_input_still_works(recognizer):
    """2 clips x 8 frames per sample (twice_sample / num_clips=2)."""
    out = _predict(recognizer, _batch(2, 16))
    assert [o.pred_score.shape for o in out] == [(8,)] * 2


def test_unknown_block_type_in_a_config(cfg):
    model = cfg.model.copy()
    model.backbone = dict(
        model.backbone,
        blocks=[
            dict(
                cfg=dict(type='NoSuchBlock'),
                position='after_stage',
                layers=('layer2',),
            )
        ],
    )
    with pytest.raises(KeyError) as err:
        MODELS.build(model)
    assert "unknown block type 'NoSuchBlock'" in str(err.value)
    assert 'STMBlock' in str(err.value)  # registered blocks are listed


def test_block_position_typo_in_a_config(cfg):
    model = cfg.model.copy()
    model.backbone = dict(
        model.backbone,
        blocks=[
            dict(
                cfg=dict(type='STMBlock'),
                position='after_conv4',
                layers=('layer2',),
            )
        ],
    )
    with pytest.raises(ValueError, match='block position must be one of'):
        MODELS.build(model)


@pytest.mark.parametrize('window', [(5, 8, 9), (4, 9, 9), (5, 9)])
def test_selfy_window_must_be_three_odd_sizes(cfg, window):
    model = cfg.model.copy()
    model.backbone = dict(
        model.backbone,
        blocks=[
            dict(
                cfg=dict(type='SELFYBlock', window=window),
                position='after_stage',
                layers=('layer2',),
            )
        ],
    )
    with pytest.raises(
        ValueError,
        match=r'window must be three odd sizes \(L, U, V\) '
        rf'>= 1, got {re.escape(str(tuple(window)))}',
    ):
        MODELS.build(model)
