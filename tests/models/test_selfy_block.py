import io

import pytest
import torch
from _official_selfy_reference import (
    OfficialSELFY,
    official_to_ours,
    randomize_,
)
from mmaction.registry import MODELS

from selfy_mmaction.models.blocks.selfy import (
    SELFYBlock,
    STSSExtraction,
    STSSIntegration,
    STSSTransformation,
)
from selfy_mmaction.ops.selfy_fast import fast_path_applies
from selfy_mmaction.ops.stss import l2_normalize, stss


@pytest.fixture(autouse=True)
def _one_thread():
    """Small tensors: extra OpenMP threads only add overhead (and stall on a
    loaded machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _pair(
    in_channels=12,
    num_segments=3,
    hidden_channels=6,
    window=(5, 9, 9),
    impl='fast',
):
    """An official-formulation block and ours with the same random weights
    and BN statistics (float64)."""
    official = randomize_(
        OfficialSELFY(in_channels, num_segments, hidden_channels, window)
    ).double()
    ours = SELFYBlock(
        in_channels,
        num_segments,
        hidden_channels=hidden_channels,
        window=window,
        impl=impl,
    ).double()
    state = {
        official_to_ours(k): v.squeeze(2) if v.dim() == 5 else v
        for k, v in official.state_dict().items()
    }
    ours.load_state_dict(state, strict=True)
    return official, ours


@pytest.mark.parametrize(
    'window, size',
    [
        ((5, 9, 9), (10, 8)),
        ((5, 9, 9), (9, 7)),  # odd: the official output_padding would not fit
        ((3, 5, 5), (6, 6)),
        ((3, 13, 7), (7, 10)),
    ],
)
@pytest.mark.parametrize('train', [True, False])
@pytest.mark.parametrize('impl', ['fast', 'reference'])
def test_equals_official_formulation(window, size, train, impl):
    """Our reference (Conv2d layers) and fast (operator, maps-last
    products, 1x1 scatter) blocks == the official Conv3d/ConvTranspose3d
    structure, outputs and all gradients, float64."""
    official, ours = _pair(window=window, impl=impl)
    official.train(train)
    ours.train(train)
    x = torch.randn(2 * 3, 12, *size, dtype=torch.float64)
    x_official = x.clone().requires_grad_()
    x_ours = x.clone().requires_grad_()
    out_official, out_ours = official(x_official), ours(x_ours)
    torch.testing.assert_close(out_ours, out_official, rtol=1e-10, atol=1e-10)
    assert out_ours.abs().max() > 0.1
    weight = torch.randn_like(out_ours)
    (out_official * weight).sum().backward()
    (out_ours * weight).sum().backward()
    torch.testing.assert_close(
        x_ours.grad, x_official.grad, rtol=1e-10, atol=1e-10
    )
    ours_params = dict(ours.named_parameters())
    for name, param in official.named_parameters():
        expected = param.grad.squeeze(2) if param.dim() == 5 else param.grad
        torch.testing.assert_close(
            ours_params[official_to_ours(name)].grad,
            expected,
            rtol=1e-10,
            atol=1e-10,
            msg=lambda m: f'{name}: {m}',
        )
    if train:  # identical running statistics after the step
        ours_buffers = dict(ours.named_buffers())
        for name, buf in official.named_buffers():
            torch.testing.assert_close(
                ours_buffers[official_to_ours(name)],
                buf,
                rtol=1e-12,
                atol=1e-12,
            )


@pytest.mark.parametrize(
    'window, size',
    [
        ((5, 9, 9), (10, 8)),
        ((5, 9, 9), (9, 7)),
        ((3, 5, 5), (6, 6)),
        ((3, 13, 7), (7, 10)),
    ],
)
@pytest.mark.parametrize('impl', ['fast', 'reference'])
def test_inference_equals_official_formulation(window, size, impl):
    """Eval without gradients (fast: every extraction BN folded into its
    products, the upsampling BN a scale and shift) == the official
    formulation, float64."""
    official, ours = _pair(window=window, impl=impl)
    official.eval()
    ours.eval()
    x = torch.randn(2 * 3, 12, *size, dtype=torch.float64)
    with torch.no_grad():
        out = ours(x)
        torch.testing.assert_close(out, official(x), rtol=1e-10, atol=1e-10)
    assert (out - x.relu()).abs().max() > 0.1


def _randomized(module, seed=0):
    """``module`` in float64 with random weights and BN statistics."""
    return randomize_(module, torch.Generator().manual_seed(seed)).double()


def _run(module, inputs, train, seed=1, call=None):
    """Output, gradients (inputs and parameters) of a weighted sum of the
    output, and the buffers after the forward ``call(*inputs)`` (default
    ``module(*inputs)``); float64."""
    module.train(train)
    leaves = [x.clone().requires_grad_() for x in inputs]
    out = (call or module)(*leaves)
    weight = torch.randn(
        out.shape,
        dtype=out.dtype,
        generator=torch.Generator().manual_seed(seed),
    )
    grads = torch.autograd.grad(
        (out * weight).sum(),
        [*leaves, *(p for p in module.parameters() if p.requires_grad)],
    )
    return [out, *grads, *(b.clone() for b in module.buffers())]


def _assert_all_close(results, expected):
    assert len(results) == len(expected)
    for i, (a, b) in enumerate(zip(results, expected)):
        torch.testing.assert_close(
            a, b, rtol=1e-10, atol=1e-10, msg=lambda m: f'tensor {i}: {m}'
        )


@pytest.mark.parametrize(
    'variant, kwargs, window',
    [
        ('conv', dict(), (3, 9, 9)),
        ('conv', dict(channels=(6,), strides=()), (3, 5, 5)),
        ('conv', dict(channels=(4, 8), strides=(2,)), (1, 7, 3)),
        ('conv', dict(channels=(2, 3, 5), strides=(1, 1)), (3, 3, 5)),
        ('mlp', dict(mlp_channels=(7, 5)), (3, 5, 5)),
    ],
)
def test_extraction_fast_equals_reference(variant, kwargs, window):
    """The maps-last kernels == the ConvModules applied one after the other
    to (M, 1, U, V) maps: outputs, gradients and running statistics in
    training, and inference (eval BN folded into the products), float64."""
    fast, reference = (
        _randomized(STSSExtraction(window, variant, impl=impl, **kwargs))
        for impl in ('fast', 'reference')
    )
    assert fast_path_applies(fast.layers)
    length, u, v = window
    similarity = torch.randn(2, 3, length, u, v, 4, 5, dtype=torch.float64)
    results = _run(fast, [similarity], train=True)
    assert results[0].shape == (2, 3, length, fast.out_channels, 4, 5)
    assert results[0].abs().max() > 0.1
    _assert_all_close(results, _run(reference, [similarity], train=True))
    fast.eval()
    reference.eval()
    with torch.no_grad():
        _assert_all_close([fast(similarity)], [reference(similarity)])


@pytest.mark.parametrize(
    'norm_cfg, train',
    [
        (dict(type='BN'), True),
        (dict(type='BN', momentum=None), True),  # cumulative average
        (dict(type='BN'), False),
        (dict(type='BN', track_running_stats=False), True),
        (
            dict(type='BN', track_running_stats=False),
            False,
        ),  # batch statistics
        (None, True),
        # the layers (zero-filled map) on both paths
        (dict(type='GN', num_groups=2), True),
        (dict(type='IN', affine=True), True),
        (dict(type='SyncBN'), False),
    ],
)
def test_integration_fast_equals_reference(norm_cfg, train):
    """The upsampling BN computed as per-channel scale and shift (zeros ->
    shift, statistics from the stride positions) == the transposed conv and
    the norm on the zero-filled map: residual and ``relu(x + residual)``,
    their gradients, running statistics over two steps, float64."""
    results = []
    for impl in ('fast', 'reference'):
        integration = _randomized(
            STSSIntegration(
                6, 10, (3, 5, 5), (4, 4), impl=impl, norm_cfg=norm_cfg
            )
        )
        feats = torch.randn(
            2,
            2,
            3,
            6,
            4,
            5,
            dtype=torch.float64,
            generator=torch.Generator().manual_seed(3),
        )
        x = torch.randn(
            4,
            10,
            8,
            9,
            dtype=torch.float64,
            generator=torch.Generator().manual_seed(4),
        )
        results.append([])
        for step in range(2):
            results[-1] += _run(
                integration,
                [feats],
                train,
                seed=step,
                call=lambda f: integration(f, (8, 9)),
            )
            results[-1] += _run(
                integration,
                [feats, x],
                train,
                seed=step + 2,
                call=lambda f, i: integration(f, (8, 9), identity=i),
            )
    assert fast_path_applies([integration.upsample], transposed=True) == (
        norm_cfg is None or norm_cfg['type'] == 'BN'
    )
    assert results[0][0].abs().max() > 0.1
    _assert_all_close(*results)


# (layers config, whether the fast kernels run the extraction's layers)
LAYER_CONFIGS = [
    (dict(), True),
    (dict(norm_cfg=dict(type='BN', momentum=None)), True),
    (dict(norm_cfg=dict(type='BN', affine=False)), True),
    (dict(norm_cfg=dict(type='BN', requires_grad=False)), True),
    (dict(norm_cfg=dict(type='SyncBN')), True),
    (dict(norm_cfg=None), True),
    (dict(act_cfg=dict(type='LeakyReLU', negative_slope=0.2)), True),
    (dict(act_cfg=dict(type='GELU')), True),
    (dict(act_cfg=None), True),
    (dict(conv_cfg=dict(type='Conv')), True),
    # statistics per map, parameters per channel, other weights: the layers
    (dict(norm_cfg=dict(type='GN', num_groups=2)), False),
    (dict(act_cfg=dict(type='PReLU')), False),
    (dict(conv_cfg=dict(type='ConvWS')), False),
]


def _block_pair(layers, extraction='conv', **kwargs):
    """Fast and reference blocks with the same random float64 weights."""
    kwargs = dict(
        hidden_channels=6,
        window=(3, 5, 5),
        extraction=extraction,
        extraction_channels=(4, 8, 8),
        extraction_strides=(1, 2),
        integration_channels=(8, 8),
        **layers,
        **kwargs,
    )
    fast = _randomized(SELFYBlock(12, 2, impl='fast', **kwargs))
    reference = SELFYBlock(12, 2, impl='reference', **kwargs).double()
    reference.load_state_dict(fast.state_dict())
    return fast, reference


@pytest.mark.parametrize('layers, kernels', LAYER_CONFIGS)
@pytest.mark.parametrize('extraction', ['conv', 'mlp'])
def test_every_layer_config_fast_equals_reference(layers, kernels, extraction):
    """Every norm/act/conv config a block accepts: the fast block == the
    reference block (every layer called, STSS by its definition), float64:
    training (output, gradients, running statistics; SyncBN only in eval,
    training needs a process group) and inference. The kernels run where
    they are exact, the layers elsewhere."""
    mlp = dict(extraction_cfg=dict(mlp_channels=(8, 8)))
    fast, reference = _block_pair(
        layers, extraction, **(mlp if extraction == 'mlp' else {})
    )
    assert fast_path_applies(fast.stss_extraction.layers) == kernels
    x = torch.randn(4, 12, 9, 10, dtype=torch.float64)
    modes = (False,) if 'SyncBN' in str(layers) else (True, False)
    for train in modes:
        results = _run(fast, [x], train)
        assert (results[0] - x.relu()).abs().max() > 0.1
        _assert_all_close(results, _run(reference, [x], train))
    with torch.no_grad():
        _assert_all_close([fast(x)], [reference(x)])


@pytest.mark.parametrize(
    'cfg, message',
    [
        (
            dict(norm_cfg=dict(type='LN')),
            r"norm_cfg=\{'type': 'LN'\} builds "
            r'LayerNorm, .* \(LayerNorm normalises the last axis, the width; GN '
            r'with num_groups=1 normalises over \(C, H, W\)\): use BN, SyncBN, GN'
            r' or IN \(or None\)',
        ),
        (
            dict(norm_cfg=dict(type='BN1d')),
            'builds BatchNorm1d, which does not '
            r'normalise the \(N, C, H, W\) maps',
        ),
        (dict(norm_cfg=dict(type='IN3d')), 'builds InstanceNorm3d'),
        (
            dict(norm_cfg=dict(type='IN')),
            "STSSExtraction: norm_cfg=\\{'type': "
            r"'IN'\} builds InstanceNorm2d, which normalises each map over its "
            r"positions; the extraction's last layers have one position",
        ),
        (dict(norm_cfg=dict(type='IN'), extraction='mlp'), 'InstanceNorm2d'),
        (
            dict(conv_cfg=dict(type='Conv3d')),
            r'STSSTransformation: conv_cfg='
            r"\{'type': 'Conv3d'\} builds Conv3d; SELFY's layers are 2-D "
            'convolutions',
        ),
        (
            dict(impl='slow'),
            r"impl must be one of \('fast', 'reference'\), "
            "got 'slow'",
        ),
    ],
)
def test_unsupported_layer_configs_are_refused(cfg, message):
    with pytest.raises(ValueError, match=message):
        SELFYBlock(8, 2, hidden_channels=4, **cfg)


@pytest.mark.parametrize('impl', ['fast', 'reference'])
@pytest.mark.parametrize('train', [True, False])
def test_hooks_on_layers_fire_and_change_nothing(impl, train):
    """Forward and backward hooks on any layer fire on both paths (the fast
    block then calls its layers), and the block's results are the same with
    and without them."""
    block = _randomized(
        SELFYBlock(12, 2, hidden_channels=6, window=(3, 5, 5), impl=impl)
    )
    x = torch.randn(4, 12, 9, 10, dtype=torch.float64)
    state = {k: v.clone() for k, v in block.state_dict().items()}
    expected = _run(block, [x], train)
    block.load_state_dict(state)
    names = [
        'stss_transformation.downsample',
        'stss_extraction.conv1',
        'stss_extraction.conv3.conv',
        'stss_integration.conv3_fuse',
        'stss_integration.upsample',
        'stss_integration.upsample.bn',
    ]
    modules = dict(block.named_modules())
    seen, handles = [], []
    for name in names:
        handles.append(
            modules[name].register_forward_hook(
                lambda m, a, out, name=name: seen.append(('forward', name))
            )
        )
        handles.append(
            modules[name].register_full_backward_hook(
                lambda m, gi, go, name=name: seen.append(('backward', name))
            )
        )
    _assert_all_close(_run(block, [x], train), expected)
    for handle in handles:
        handle.remove()
    assert sorted(seen) == sorted(
        (kind, name) for name in names for kind in ('forward', 'backward')
    )


def test_global_module_hooks_see_every_layer():
    """A hook registered for all modules (as mmcv's FLOP counter does) sees
    every layer of a fast block."""
    block = SELFYBlock(12, 2, hidden_channels=6, window=(3, 5, 5))
    called = set()
    handle = torch.nn.modules.module.register_module_forward_hook(
        lambda m, a, out: called.add(m)
    )
    try:
        block(torch.randn(4, 12, 9, 10))
    finally:
        handle.remove()
    assert {m for m in block.modules() if not list(m.children())} <= called


def test_flop_analyzer_counts_every_layer():
    """mmengine's FlopAnalyzer (a tracer) sees every conv of a fast block,
    each with its conv's multiply-adds, and every BN."""
    from mmengine.analysis import FlopAnalyzer

    block = SELFYBlock(12, 2, hidden_channels=6, window=(3, 5, 5)).eval()
    analyzer = FlopAnalyzer(block, (torch.randn(4, 12, 8, 10),))
    analyzer.unsupported_ops_warnings(False)
    analyzer.tracer_warnings('none')
    by_module = analyzer.by_module()
    nt, hw, length = 4, 4 * 5, 3
    maps = nt * hw * length
    expected = {
        'stss_transformation.downsample.conv': nt * hw * 6 * 12 * 9,
        'stss_extraction.conv0.conv': maps * 25 * 4 * 9,
        'stss_extraction.conv1.conv': maps * 9 * 16 * 4 * 9,
        'stss_extraction.conv2.conv': maps * 4 * 64 * 16 * 9,
        'stss_extraction.conv3.conv': maps * 64 * 64 * 4,
        'stss_integration.conv0.conv': maps * 64 * 64 * 9,
        'stss_integration.conv3_fuse.conv': nt * hw * 64 * 3 * 64 * 9,
        'stss_integration.upsample.conv': nt * hw * 64 * 12,
    }
    for name, flops in expected.items():
        assert by_module[name] == flops, name
    for name, module in block.named_modules():
        if isinstance(
            module,
            (torch.nn.Conv2d, torch.nn.ConvTranspose2d, torch.nn.BatchNorm2d),
        ):
            assert by_module[name] > 0, name


def test_paper_defaults():
    block = MODELS.build(
        dict(type='SELFYBlock', in_channels=512, num_segments=8)
    )
    assert isinstance(block, SELFYBlock)
    shapes = {k: tuple(v.shape) for k, v in block.named_parameters()}
    assert shapes['stss_transformation.downsample.conv.weight'] == (
        128,
        512,
        3,
        3,
    )
    assert [
        shapes[f'stss_extraction.conv{i}.conv.weight'] for i in range(4)
    ] == [(4, 1, 3, 3), (16, 4, 3, 3), (64, 16, 3, 3), (64, 64, 3, 3)]
    assert block.stss_extraction.conv1.conv.stride == (2, 2)
    assert block.stss_extraction.conv3.conv.padding == (0, 0)
    assert shapes['stss_integration.conv3_fuse.conv.weight'] == (64, 320, 3, 3)
    assert shapes['stss_integration.upsample.conv.weight'] == (64, 512, 1, 1)
    assert block.stss_integration.upsample.conv.stride == (2, 2)
    assert block.window == (5, 9, 9)
    # 0.966 M parameters (docs/selfy.md)
    assert sum(p.numel() for p in block.parameters()) == 966284
    for name in ('STSSTransformation', 'STSSExtraction', 'STSSIntegration'):
        assert MODELS.get(name) is not None


def test_fresh_block_is_relu():
    block = SELFYBlock(16, num_segments=4, hidden_channels=8)
    x = torch.randn(8, 16, 12, 11)
    torch.testing.assert_close(block(x), torch.relu(x), rtol=0, atol=0)
    assert block.stss_integration.upsample.bn.weight.abs().max() == 0
    block.stss_integration.upsample.bn.weight.data.fill_(1)
    block.init_weights()  # as the backbone calls it
    torch.testing.assert_close(block(x), torch.relu(x), rtol=0, atol=0)
    # and gradients reach every layer once the last BN moves
    block.stss_integration.upsample.bn.weight.data.fill_(0.5)
    block(x).sum().backward()
    for name, param in block.named_parameters():
        assert param.grad is not None and param.grad.abs().max() > 0, name


def test_inserted_after_layer2_of_tsm_resnet():
    backbone = MODELS.build(
        dict(
            type='ResNetTSMWithBlocks',
            depth=18,
            num_segments=4,
            pretrained=None,
            pretrained2d=False,
            out_indices=(3,),
            blocks=[
                dict(
                    cfg=dict(type='SELFYBlock'),
                    position='after_stage',
                    layers=('layer2',),
                )
            ],
        )
    )
    backbone.init_weights()
    block = backbone.stage_blocks['layer2'][0]
    assert (block.in_channels, block.num_segments) == (128, 4)
    assert (
        'stage_blocks.layer2.0.stss_integration.upsample.bn.weight'
        in backbone.state_dict()
    )
    assert backbone(torch.randn(8, 3, 72, 72)).shape == (8, 512, 3, 3)


@pytest.mark.parametrize(
    'window', [(1, 1, 1), (1, 3, 3), (3, 5, 5), (3, 7, 11), (5, 13, 13)]
)
def test_other_windows_and_segments(window):
    block = SELFYBlock(8, num_segments=5, hidden_channels=4, window=window)
    block.stss_integration.upsample.bn.weight.data.fill_(1)
    x = torch.randn(10, 8, 9, 12, requires_grad=True)
    out = block(x)
    assert out.shape == x.shape
    out.sum().backward()
    assert x.grad.abs().max() > 0
    assert block.stss_extraction.conv3.conv.kernel_size == tuple(
        (s - 1) // 2 // 2 + 1 for s in window[1:]
    )


def test_deterministic():
    torch.manual_seed(3)
    a = SELFYBlock(8, 2, hidden_channels=4)
    torch.manual_seed(3)
    b = SELFYBlock(8, 2, hidden_channels=4)
    for block in (a, b):
        block.stss_integration.upsample.bn.weight.data.fill_(1)
        block.eval()
    x = torch.randn(4, 8, 9, 9)
    torch.testing.assert_close(a(x), b(x), rtol=0, atol=0)
    torch.testing.assert_close(a(x), a(x), rtol=0, atol=0)


def test_bfloat16_autocast_keeps_similarity_in_float32():
    block = SELFYBlock(16, 2, hidden_channels=8)
    block.stss_integration.upsample.bn.weight.data.fill_(1)
    x = torch.randn(4, 16, 10, 10)
    seen = {}

    def record_dtype(module, inputs, output):
        seen['stss'] = output.dtype

    block.stss_transformation.register_forward_hook(record_dtype)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = block(x)
        normed = l2_normalize(
            block.stss_transformation.downsample(x).view(2, 2, 8, 5, 5)
        )
        similarity = stss(normed)
    assert seen['stss'] == torch.float32
    assert normed.dtype == similarity.dtype == torch.float32
    assert out.shape == x.shape and torch.isfinite(out).all()
    out.float().sum().backward()
    assert block.stss_extraction.conv0.conv.weight.grad is not None
    # bfloat16 convolutions, float32 similarity: close to float32
    block.eval()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = block(x)
    expected = block(x)
    error = (out.float() - expected).abs().mean()
    assert error < 0.02 * (expected - x.relu()).abs().mean()


@pytest.mark.parametrize('input_dtype', [torch.float32, torch.bfloat16])
@pytest.mark.parametrize('channels_last', [False, True])
@pytest.mark.parametrize('train', [True, False])
def test_autocast_bfloat16(input_dtype, channels_last, train):
    """Under CPU bfloat16 autocast: L2 normalisation and similarity in
    float32, output finite in the input's dtype and close to the float32
    block, channels-last input as contiguous, gradients reach every layer."""
    torch.manual_seed(0)
    block = randomize_(
        SELFYBlock(16, 2, hidden_channels=8, window=(3, 7, 7))
    ).train(train)
    x = torch.randn(4, 16, 11, 10).to(input_dtype)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    seen = {}
    block.stss_transformation.register_forward_hook(
        lambda module, inputs, output: seen.update(similarity=output)
    )
    state = {k: v.clone() for k, v in block.state_dict().items()}
    leaf = x.detach().requires_grad_()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = block(leaf)
        feats = block.stss_transformation.downsample(x).view(2, 2, 8, 6, 5)
    assert feats.dtype == torch.bfloat16  # the convolutions run in bf16
    expected_similarity = stss(l2_normalize(feats.float()), (3, 7, 7))
    assert seen['similarity'].dtype == torch.float32
    torch.testing.assert_close(
        seen['similarity'], expected_similarity, rtol=0, atol=1e-6
    )
    assert out.dtype == input_dtype and out.shape == x.shape
    assert torch.isfinite(out).all()
    out.float().square().sum().backward()
    assert torch.isfinite(leaf.grad).all() and leaf.grad.abs().max() > 0
    for name, param in block.named_parameters():
        assert param.grad is not None and torch.isfinite(param.grad).all()
        assert param.grad.abs().max() > 0, name
    out = out.detach()
    # the float32 block (same weights and BN statistics) on the same input
    block.load_state_dict(state)
    with torch.no_grad():
        expected = block(x.float())
    residual = (expected - x.float().relu()).norm()
    assert residual > 1
    # bfloat16 keeps ~3 digits; BN on batch statistics of a tiny batch
    # amplifies the rounding (measured 2.4% train, 0.6% eval)
    tolerance = 0.05 if train else 0.02
    assert (out.float() - expected).norm() < tolerance * residual
    # contiguous input: the same up to kernel rounding (equal here)
    block.load_state_dict(state)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        contiguous = block(x.contiguous().requires_grad_())
    assert (out.float() - contiguous.float()).norm() < 1e-3 * residual
    # inference (no gradients; eval folds the BN into the products)
    block.load_state_dict(state)
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):
        inferred = block(x)
    assert inferred.dtype == input_dtype and torch.isfinite(inferred).all()
    assert (inferred.float() - expected).norm() < tolerance * residual


def test_channels_last_input():
    block = SELFYBlock(16, 2, hidden_channels=8).double()
    block.stss_integration.upsample.bn.weight.data.fill_(1)
    x = torch.randn(4, 16, 11, 10, dtype=torch.float64)
    x_last = x.contiguous(memory_format=torch.channels_last).requires_grad_()
    x = x.requires_grad_()
    out, out_last = block(x), block(x_last)
    torch.testing.assert_close(out_last, out, rtol=0, atol=1e-12)
    out.sum().backward()
    out_last.sum().backward()
    torch.testing.assert_close(x_last.grad, x.grad, rtol=0, atol=1e-12)


def test_mlp_extraction():
    block = SELFYBlock(
        8,
        2,
        hidden_channels=4,
        extraction='mlp',
        extraction_cfg=dict(mlp_channels=(32, 16)),
        integration_channels=(24, 24, 24, 24),
    )
    names = [n for n, _ in block.stss_extraction.named_parameters()]
    assert names[:3] == ['fc0.conv.weight', 'fc0.bn.weight', 'fc0.bn.bias']
    assert block.stss_extraction.fc0.conv.weight.shape == (32, 81, 1, 1)
    assert block.stss_integration.conv0.conv.weight.shape == (24, 16, 3, 3)
    block.stss_integration.upsample.bn.weight.data.fill_(1)
    x = torch.randn(4, 8, 8, 8, requires_grad=True)
    block(x).sum().backward()
    assert block.stss_extraction.fc0.conv.weight.grad.abs().max() > 0


def test_softargmax_extraction_reads_the_displacement():
    """A pattern moving by (dy, dx) = (1, -2) per frame: at temporal offset
    +1 the expected displacement is (dx / 4, dy / 4), at -1 its negative;
    confidence is the peak similarity."""
    extraction = STSSExtraction(
        (3, 9, 9), variant='softargmax', temperature=0.01, gaussian_sigma=5.0
    )
    assert extraction.out_channels == 3
    assert not list(extraction.parameters())
    frame = torch.randn(32, 16, 16)
    clip = torch.stack(
        [torch.roll(frame, (k, -2 * k), (1, 2)) for k in range(3)]
    )
    feats = extraction(stss(l2_normalize(clip[None]), (3, 9, 9)))
    assert feats.shape == (1, 3, 3, 3, 16, 16)
    # frame 1, position (8, 8): offsets -1, 0, +1
    centre = feats[0, 1, :, :, 8, 8]
    torch.testing.assert_close(
        centre[2, :2], torch.tensor([-0.5, 0.25]), atol=1e-3, rtol=0
    )
    torch.testing.assert_close(
        centre[0, :2], torch.tensor([0.5, -0.25]), atol=1e-3, rtol=0
    )
    torch.testing.assert_close(
        centre[1], torch.tensor([0.0, 0.0, 1.0]), atol=1e-3, rtol=0
    )
    plain = STSSExtraction(
        (3, 9, 9),
        variant='softargmax',
        gaussian_sigma=None,
        with_confidence=False,
    )
    assert plain.out_channels == 2


def test_parts_compose_like_the_block():
    torch.manual_seed(1)
    block = SELFYBlock(8, 2, hidden_channels=4, window=(3, 5, 5))
    block.stss_integration.upsample.bn.weight.data.fill_(1)
    x = torch.randn(4, 8, 7, 9)
    similarity = block.stss_transformation(x)
    assert isinstance(block.stss_transformation, STSSTransformation)
    assert similarity.shape == (2, 2, 3, 5, 5, 4, 5)
    feats = block.stss_extraction(similarity)
    assert feats.shape == (2, 2, 3, 64, 4, 5)
    assert isinstance(block.stss_integration, STSSIntegration)
    residual = block.stss_integration(feats, (7, 9))
    torch.testing.assert_close(block(x), torch.relu(x + residual))


def test_errors():
    block = SELFYBlock(16, num_segments=4, hidden_channels=8)
    with pytest.raises(
        ValueError,
        match=r'batch dimension 6 .* not a '
        r'multiple of num_segments=4',
    ):
        block(torch.randn(6, 16, 8, 8))
    with pytest.raises(
        ValueError,
        match=r'expected input \(N\*T, 16, H, W\),'
        r' got \(4, 15, 8, 8\)',
    ):
        block(torch.randn(4, 15, 8, 8))
    with pytest.raises(
        ValueError,
        match=r'window must be three odd sizes '
        r'\(L, U, V\) >= 1, got \(5, 8, 9\)',
    ):
        SELFYBlock(16, window=(5, 8, 9))
    with pytest.raises(ValueError, match=r'got \(4, 9, 9\)'):
        SELFYBlock(16, window=(4, 9, 9))
    with pytest.raises(ValueError, match='variant must be one of'):
        SELFYBlock(16, extraction='fancy')
    with pytest.raises(
        ValueError,
        match=r'need 3 strides for 4 conv layers'
        r', got \(1, 2\)',
    ):
        STSSExtraction(strides=(1, 2))
    with pytest.raises(
        ValueError,
        match=r'expected a \(L, U, V\) = '
        r'\(5, 9, 9\) window, got \(3, 9, 9\)',
    ):
        STSSExtraction()(torch.randn(1, 2, 3, 9, 9, 4, 4))
    with pytest.raises(
        ValueError,
        match=r'output size \(9, 9\) cannot come '
        r'from \(4, 4\) with stride 2',
    ):
        STSSIntegration(64, 16)(torch.randn(1, 2, 5, 64, 4, 4), (9, 9))


def test_onnx_export_matches_eager():
    """Tracers take the buffer-free paths (op and patches): the exported
    graph computes the same block."""
    ort = pytest.importorskip('onnxruntime')
    block = SELFYBlock(16, 2, hidden_channels=8).eval()
    randomize_(block)
    x = torch.randn(4, 16, 9, 10)
    buffer = io.BytesIO()
    torch.onnx.export(block, (x,), buffer, dynamo=False, opset_version=17)
    session = ort.InferenceSession(buffer.getvalue())
    (onnx_out,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    expected = block(x)
    assert (expected - x.relu()).abs().max() > 0.1
    torch.testing.assert_close(
        torch.from_numpy(onnx_out), expected, rtol=1e-4, atol=1e-4
    )
