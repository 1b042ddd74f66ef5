"""Every config in configs/ parses, builds without pretrained weights and runs
a forward pass; one config per family trains and tests a step; the data
bases read real frames/videos; SELFY configs differ from their TSM baselines
only by the block and carry the official schedule."""

import copy
import glob
import os
import os.path as osp
import shutil

import mmaction
import pytest
import torch
from mmaction.registry import DATASETS, MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_ROOT = osp.join(REPO, 'configs')
CONFIGS = sorted(
    osp.relpath(p, CONFIG_ROOT)
    for p in glob.glob(osp.join(CONFIG_ROOT, '**', '*.py'), recursive=True)
    if '_base_' not in osp.relpath(p, CONFIG_ROOT).split(os.sep)
)
SELFY_CONFIGS = [c for c in CONFIGS if c.startswith('selfy' + os.sep)]
TINY = 32  # input side: SELFY after layer2 then sees 4x4 maps
# real forwards of full-depth backbones: TDN's long-term TDM pools layer4
FULL_DEPTH_SIDE = 64

from selfy_mmaction.analysis import complexity as get_flops  # noqa: E402

_loaded = {}


def load(name):
    """A fresh copy of a config (parsed once)."""
    if name not in _loaded:
        _loaded[name] = Config.fromfile(osp.join(CONFIG_ROOT, name))
    return copy.deepcopy(_loaded[name])


def clip_frames(cfg):
    """Frames per clip given to the recognizer: clip_len * num_clips of the
    val pipeline's sampler (5 x T for TDN's snippets)."""
    return get_flops.clip_input_shape(cfg, TINY)[1]


def clip_shape(cfg, side=TINY):
    """One sample's input without the batch, ``None`` for configs without a
    frame sampler (then only the build is checked)."""
    try:
        return get_flops.clip_input_shape(cfg, side)[1:]
    except (ValueError, KeyError):
        return None


def build(cfg):
    init_default_scope('mmaction')
    return MODELS.build(get_flops.without_pretrained(copy.deepcopy(cfg.model)))


def tiny_batch(shape, num_classes, views=1, batch=1):
    """uint8 clips of ``shape`` (``views`` of them per sample)."""
    inputs, samples = [], []
    for i in range(batch):
        sample = (shape[0] * views,) + tuple(shape[1:])
        inputs.append(torch.randint(0, 256, sample, dtype=torch.uint8))
        samples.append(ActionDataSample().set_gt_label(i % num_classes))
    return dict(inputs=inputs, data_samples=samples)


def shrink_to_r18(cfg):
    """ResNet-50 -> ResNet-18 for (TSM) ResNets whose blocks only sit after
    stages (SELFY, TSM, TSN): the same code paths, a quarter of the time.
    Other backbones keep their depth. Returns whether it shrank."""
    backbone = cfg.model.get('backbone', {})
    if (
        backbone.get('type')
        not in ('ResNetTSM', 'ResNetTSMWithBlocks', 'ResNetWithBlocks')
        or backbone.get('depth') != 50
    ):
        return False
    if any(
        b['position'] != 'after_stage' for b in backbone.get('blocks') or []
    ):
        return False
    backbone.depth = 18
    cfg.model.cls_head.in_channels = 512
    return True


def test_configs_found():
    assert len(SELFY_CONFIGS) >= 10
    assert 'selfy_tsm_r50_ssv1.py' in CONFIGS


#: Data of the paper datasets (tools/data/prepare_dataset.py writes them).
PAPER_DATA = ('data/sthv1/', 'data/sthv2/', 'data/diving48/', 'data/gym/')


@pytest.mark.parametrize('name', CONFIGS)
def test_config_parses_with_plugin_import(name):
    cfg = load(name)
    assert cfg.default_scope == 'mmaction'
    assert 'selfy_mmaction' in cfg.custom_imports['imports']
    assert cfg.custom_imports.get('allow_failed_imports') is False
    # a paper dataset that is not there stops naming its preparation
    for split in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = (cfg.get(split) or {}).get('dataset') or {}
        if str(dataset.get('ann_file', '')).startswith(PAPER_DATA):
            assert dataset.type.startswith('Checked'), split
            assert 'tools/data/prepare_dataset.py' in dataset.prepare_cmd


_forward_cache = {}


def _two_clips_logits(cfg, shape, on_meta):
    """Logits of two random clips through backbone and head (BN on batch
    statistics). ``on_meta``: on the meta device (shapes only, no compute);
    an op without a meta kernel falls back to real tensors at 64 px."""
    model = build(cfg)
    model.train()
    if on_meta:
        try:
            with torch.no_grad():
                return model.to('meta').extract_feat(
                    torch.empty(2, *shape, device='meta'), stage='head'
                )[0]
        except (RuntimeError, NotImplementedError):
            model = build(cfg)
            model.train()
            shape = shape[:-2] + (FULL_DEPTH_SIDE, FULL_DEPTH_SIDE)
    with torch.no_grad():
        logits = model.extract_feat(torch.randn(2, *shape), stage='head')[0]
    assert torch.isfinite(logits).all()
    return logits


@pytest.mark.parametrize('name', CONFIGS)
def test_config_builds_and_forwards(name):
    """Pretrained off. The optimizer builds with every parameter in one
    group, and a recognizer runs two clips through backbone and head:
    SELFY/TSM (ResNet-50s shrunk to R18) on real 32x32 frames, finite
    logits (their R50s run in the step tests); other families at full size
    on the meta device (their numerics are tested next to their blocks).
    Configs with the same model and clip share one run."""
    cfg = load(name)
    shrunk = shrink_to_r18(cfg)
    shape = clip_shape(cfg, TINY if shrunk else None)
    key = (repr(get_flops.without_pretrained(cfg.model.to_dict())), shape)
    if key not in _forward_cache:
        if cfg.get('optim_wrapper'):
            model = build(cfg)
            wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
            # an OptimWrapperDict (e.g. DREAL's actor and critic) has several
            wrappers = (
                wrapper.values() if hasattr(wrapper, 'values') else [wrapper]
            )
            grouped = [
                id(p)
                for w in wrappers
                for g in w.optimizer.param_groups
                for p in g['params']
                if p.requires_grad
            ]
            assert sorted(grouped) == sorted(
                id(p) for p in model.parameters() if p.requires_grad
            )
        logits = None
        # re-ID models embed instead of classifying (their configs run in
        # tests/configs/test_reid_configs.py)
        if (
            shape is not None
            and 'cls_head' in cfg.model
            and cfg.model.type != 'VideoReID'
        ):
            logits = _two_clips_logits(cfg, shape, on_meta=not shrunk)
        _forward_cache[key] = logits
    logits = _forward_cache[key]
    if logits is not None:
        assert logits.shape[0] == 2
        if 'num_classes' in cfg.model.cls_head:
            assert logits.shape == (2, cfg.model.cls_head.num_classes)


# train_step/test_step for the SELFY and TSM configs (the other families test
# their own configs' steps next to their blocks): SELFY at full R50.
@pytest.mark.parametrize(
    'name,shrink',
    [
        (
            'selfy/selfy_imagenet-pretrained-r50_8xb8-1x1x8-50e_sthv1-rgb.py',
            False,
        ),
        ('tsm/tsm_imagenet-pretrained-r50_8xb8-1x1x16-50e_sthv2-rgb.py', True),
    ],
)
def test_train_step_and_test_step(name, shrink):
    cfg = load(name)
    if shrink:
        assert shrink_to_r18(cfg)
    model = build(cfg)
    model.init_weights()
    shape = clip_shape(cfg)
    num_classes = cfg.model.cls_head.num_classes
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    fc = model.cls_head.fc_cls
    before = fc.weight.detach().clone()
    losses = model.train_step(
        tiny_batch(shape, num_classes, batch=2), optim_wrapper
    )
    assert 'loss_cls' in losses and torch.isfinite(losses['loss_cls'])
    assert not torch.equal(fc.weight, before)
    model.eval()
    with torch.no_grad():
        preds = model.test_step(tiny_batch(shape, num_classes))
    score = preds[0].pred_score
    assert score.shape == (num_classes,)
    assert torch.allclose(score.sum(), torch.tensor(1.0), atol=1e-5)


def test_selfy_r50_recognizer_init_keeps_block_identity():
    """The real SELFYNet-TSM-R50: a Recognizer2D-level init_weights leaves the
    SELFY block's last BN at gamma 0, and it has the official parameter
    count (docs/paper_numbers.md: 24.83 M with 174 classes)."""
    cfg = load('selfy_tsm_r50_ssv1.py')
    model = build(cfg)
    model.init_weights()
    block = model.backbone.stage_blocks['layer2'][0]
    assert type(block).__name__ == 'SELFYBlock'
    zero = [
        m
        for m in block.modules()
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
        and not m.weight.detach().any()
    ]
    assert zero
    params = sum(p.numel() for p in model.parameters())
    assert abs(params / 1e6 - 24.83) < 0.01


def test_two_clips_three_crops_test_step():
    cfg = load(
        'selfy/selfy_imagenet-pretrained-r50_8xb8-1x1x8-50e_sthv1-'
        'rgb_test-2clip3crop.py'
    )
    sampler, crop = [
        t
        for t in cfg.test_dataloader.dataset.pipeline
        if t['type'] in ('SampleFrames', 'ThreeCrop')
    ]
    assert sampler['twice_sample'] and crop['crop_size'] == 240
    cfg.model.backbone.depth = 18  # the view handling does not need R50
    cfg.model.cls_head.in_channels = 512
    model = build(cfg)
    model.eval()
    with torch.no_grad():
        preds = model.test_step(tiny_batch(clip_shape(cfg), 174, views=6))
    assert preds[0].pred_score.shape == (174,)


def test_entry_config_is_the_canonical_sthv1_config():
    assert (
        load('selfy_tsm_r50_ssv1.py').to_dict()
        == load(
            'selfy/selfy_imagenet-pretrained-r50_8xb8-1x1x8-50e_sthv1-rgb.py'
        ).to_dict()
    )


@pytest.mark.parametrize(
    'name', [c for c in SELFY_CONFIGS if 'window' not in c]
)
def test_selfy_differs_from_its_tsm_baseline_only_by_the_block(name):
    selfy = load(name).to_dict()
    tsm = load(name.replace('selfy', 'tsm')).to_dict()
    s_bb, t_bb = selfy['model'].pop('backbone'), tsm['model'].pop('backbone')
    assert s_bb.pop('type') == 'ResNetTSMWithBlocks'
    assert t_bb.pop('type') == 'ResNetTSM'
    blocks = s_bb.pop('blocks')
    assert [b['cfg']['type'] for b in blocks] == ['SELFYBlock']
    assert blocks[0]['position'] == 'after_stage'
    assert tuple(blocks[0]['layers']) == ('layer2',)
    # num_segments is explicit in SELFY configs, ResNetTSM's default (8) in
    # 8-frame TSM ones
    t_bb.setdefault('num_segments', 8)
    tsm['model']['cls_head'].setdefault('num_segments', 8)
    assert s_bb == t_bb
    assert selfy == tsm


@pytest.mark.parametrize('name', SELFY_CONFIGS)
def test_selfy_configs_use_the_official_recipe(name):
    cfg = load(name)
    frames = clip_frames(cfg)
    assert cfg.model.backbone.num_segments == frames
    assert cfg.model.cls_head.num_segments == frames
    window = cfg.model.backbone.blocks[0]['cfg']['window']
    assert tuple(window) == ((9, 9, 9) if 'window9x9x9' in name else (5, 9, 9))
    opt = cfg.optim_wrapper
    assert opt.optimizer == dict(
        type='SGD', lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4
    )
    assert opt.clip_grad == dict(max_norm=20, norm_type=2)
    assert opt.get('constructor') is None  # MMEngine's default
    assert [s['type'] for s in cfg.param_scheduler] == ['MultiStepLR']
    assert cfg.param_scheduler[0]['milestones'] == [30, 40]
    assert cfg.train_cfg.max_epochs == 50
    assert cfg.train_dataloader.batch_size * 8 == 64
    assert cfg.auto_scale_lr == dict(enable=False, base_batch_size=64)
    assert cfg.model.cls_head.dropout_ratio == 0.5
    assert cfg.model.cls_head.type == 'CheckedTSMHead'


def test_param_groups_follow_the_official_policy():
    """No decay on BN and biases, biases (the FC's) at 2x lr."""
    cfg = load('selfy_tsm_r50_ssv1.py')
    cfg.model.backbone.depth = 18
    cfg.model.cls_head.in_channels = 512
    model = build(cfg)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    group_of = {}
    for group in wrapper.optimizer.param_groups:
        for p in group['params']:
            group_of[id(p)] = group
    fc = model.cls_head.fc_cls
    bn = model.backbone.stage_blocks['layer2'][0]
    bn = next(
        m
        for m in bn.modules()
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
    )
    conv = model.backbone.conv1.conv
    assert (
        group_of[id(fc.bias)]['lr'],
        group_of[id(fc.bias)]['weight_decay'],
    ) == (0.02, 0)
    assert (
        group_of[id(fc.weight)]['lr'],
        group_of[id(fc.weight)]['weight_decay'],
    ) == (0.01, 5e-4)
    assert group_of[id(bn.weight)]['weight_decay'] == 0
    assert group_of[id(bn.bias)]['weight_decay'] == 0
    assert group_of[id(conv.weight)]['weight_decay'] == 5e-4
    assert len(group_of) == len(list(model.parameters()))


def test_sthv2_base_has_mmaction2_tsm_data_settings():
    ours = Config.fromfile(
        osp.join(CONFIG_ROOT, '_base_', 'datasets', 'sthv2_rgb_8f.py')
    )
    upstream = Config.fromfile(
        osp.join(
            osp.dirname(mmaction.__file__),
            '.mim',
            'configs',
            'recognition',
            'tsm',
            'tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_sthv2-rgb.py',
        )
    )
    assert ours.train_pipeline == upstream.train_pipeline
    assert ours.val_pipeline == upstream.val_pipeline
    assert ours.test_pipeline_2x3 == upstream.test_pipeline


# --- data bases on real frames / videos -------------------------------------

DATA_BASES = {
    # base: (frames, 2x3 crop side)
    'sthv1_rgb_8f.py': (8, 240),
    'sthv1_rgb_16f.py': (16, 240),
    'sthv2_rgb_8f.py': (8, 256),
    'sthv2_rgb_16f.py': (16, 256),
    'diving48_rgb_8f.py': (8, 256),
    'diving48_rgb_16f.py': (16, 256),
    'gym99_rgb_8f.py': (8, 256),
    'gym99_rgb_16f.py': (16, 256),
}


def _dataset(base, split, data_dir, label, tmp_path, pipeline=None):
    """The base's ``split`` dataset on one real video / frame folder, with
    its own pipeline or ``pipeline``."""
    cfg = Config.fromfile(osp.join(CONFIG_ROOT, '_base_', 'datasets', base))
    ds_cfg = copy.deepcopy(cfg[split].dataset)
    if pipeline is not None:
        ds_cfg.pipeline = copy.deepcopy(cfg[pipeline])
    ann = tmp_path / f'{split}.txt'
    if ds_cfg.type.endswith('RawframeDataset'):
        ann.write_text(f'vid1 10 {label}\n')
        ds_cfg.data_prefix = dict(img=str(data_dir))
    else:
        ann.write_text(f'test.mp4 {label}\n')
        ds_cfg.data_prefix = dict(video=str(data_dir))
    ds_cfg.ann_file = str(ann)
    init_default_scope('mmaction')
    return DATASETS.build(ds_cfg), cfg


@pytest.fixture
def data_dir_for(testdata_dir, tmp_path):

    def get(base):
        if not base.startswith('sthv1'):
            return testdata_dir
        root = tmp_path / 'rawframes'
        (root / 'vid1').mkdir(parents=True, exist_ok=True)
        for i in range(1, 11):
            shutil.copy(
                osp.join(testdata_dir, 'imgs', f'img_{i:05d}.jpg'),
                root / 'vid1' / f'{i:05d}.jpg',
            )
        return root

    return get


@pytest.mark.parametrize('base', sorted(DATA_BASES))
def test_data_base_pipelines_on_real_data(base, data_dir_for, tmp_path):
    """The dataloaders' own pipelines (train, val; test = val: 1 clip x
    centre crop) and the 2-clip x 3-crop pipeline on real data."""
    frames, crop = DATA_BASES[base]
    data_dir = data_dir_for(base)
    for split, pipeline, shape in (
        ('train_dataloader', None, (frames, 3, 224, 224)),
        ('val_dataloader', None, (frames, 3, 224, 224)),
        ('test_dataloader', 'test_pipeline_2x3', (6 * frames, 3, crop, crop)),
    ):
        ds, cfg = _dataset(base, split, data_dir, 7, tmp_path, pipeline)
        item = ds[0]
        assert tuple(item['inputs'].shape) == shape, (split, pipeline)
        assert item['data_samples'].gt_label.item() == 7
    assert (
        cfg.test_dataloader.dataset.pipeline
        == cfg.val_dataloader.dataset.pipeline
    )


@pytest.mark.parametrize(
    'base,label,swapped',
    [
        ('sthv1_rgb_8f.py', 2, 4),
        ('sthv2_rgb_8f.py', 86, 87),
        ('gym99_rgb_8f.py', 5, 5),
    ],
)
def test_flip_swaps_left_right_labels(
    base, label, swapped, data_dir_for, tmp_path
):
    ds, _ = _dataset(
        base, 'train_dataloader', data_dir_for(base), label, tmp_path
    )
    flip = next(
        t for t in ds.pipeline.transforms if type(t).__name__ == 'Flip'
    )
    flip.flip_ratio = 1.0
    assert ds[0]['data_samples'].gt_label.item() == swapped
