import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from zoo_helpers import (
    CONFIGS,
    grads_reach_all,
    single_thread,  # noqa: F401  (autouse fixture)
)

from selfy_mmaction.models.backbones.mstat import MSTAT

D, HEADS, PATCH = 16, 2, 4


def _tiny(**kw):
    cfg = dict(
        num_segments=2,
        img_size=16,
        patch_size=PATCH,
        embed_dims=D,
        num_heads=HEADS,
        stage_depths=(1, 1, 1),
        num_attribute_proxies=3,
        num_identity_proxies=2,
        drop_path_rate=0.0,
    )
    cfg.update(kw)
    model = MSTAT(**cfg)
    model.init_weights()
    return model


def _timm_vit(depth=3, grid=4, dims=D, seed=0):
    """A random state dict with timm VisionTransformer keys and shapes."""
    g = torch.Generator().manual_seed(seed)

    def r(*shape):
        return torch.randn(*shape, generator=g) * 0.2

    sd = {
        'cls_token': r(1, 1, dims),
        'pos_embed': r(1, 1 + grid * grid, dims),
        'patch_embed.proj.weight': r(dims, 3, PATCH, PATCH),
        'patch_embed.proj.bias': r(dims),
        'norm.weight': 1 + r(dims),
        'norm.bias': r(dims),
        'head.weight': r(10, dims),
        'head.bias': r(10),
    }
    for i in range(depth):
        p = f'blocks.{i}.'
        sd.update(
            {
                p + 'norm1.weight': 1 + r(dims),
                p + 'norm1.bias': r(dims),
                p + 'attn.qkv.weight': r(3 * dims, dims),
                p + 'attn.qkv.bias': r(3 * dims),
                p + 'attn.proj.weight': r(dims, dims),
                p + 'attn.proj.bias': r(dims),
                p + 'norm2.weight': 1 + r(dims),
                p + 'norm2.bias': r(dims),
                p + 'mlp.fc1.weight': r(4 * dims, dims),
                p + 'mlp.fc1.bias': r(4 * dims),
                p + 'mlp.fc2.weight': r(dims, 4 * dims),
                p + 'mlp.fc2.bias': r(dims),
            }
        )
    return sd


def _vit_block(sd, i, x):
    """timm's ViT block from its definition (pre-norm, eps 1e-6)."""
    p = f'blocks.{i}.'
    b, n, d = x.shape
    dh = d // HEADS
    y = F.layer_norm(
        x, (d,), sd[p + 'norm1.weight'], sd[p + 'norm1.bias'], 1e-6
    )
    qkv = (
        (y @ sd[p + 'attn.qkv.weight'].T + sd[p + 'attn.qkv.bias'])
        .view(b, n, 3, HEADS, dh)
        .permute(2, 0, 3, 1, 4)
    )
    att = torch.softmax(qkv[0] @ qkv[1].transpose(-1, -2) / dh**0.5, -1)
    y = (att @ qkv[2]).transpose(1, 2).reshape(b, n, d)
    x = x + y @ sd[p + 'attn.proj.weight'].T + sd[p + 'attn.proj.bias']
    y = F.layer_norm(
        x, (d,), sd[p + 'norm2.weight'], sd[p + 'norm2.bias'], 1e-6
    )
    y = F.gelu(y @ sd[p + 'mlp.fc1.weight'].T + sd[p + 'mlp.fc1.bias'])
    return x + y @ sd[p + 'mlp.fc2.weight'].T + sd[p + 'mlp.fc2.bias']


def _reference_stages(sd, model, frames):
    """Per-frame ViT blocks with MSTAT's token composition (the temporal
    attentions are the identity at init)."""
    patches = F.conv2d(
        frames,
        sd['patch_embed.proj.weight'],
        sd['patch_embed.proj.bias'],
        stride=PATCH,
    )
    tokens = patches.flatten(2).transpose(1, 2) + sd['pos_embed'][:, 1:]
    # summed in float32 on loading, as the checkpoint's dtype
    base = (sd['cls_token'].float() + sd['pos_embed'][:, :1].float()).to(
        frames.dtype
    )
    b = frames.shape[0]
    aap = (base + model.attribute_offsets).expand(b, -1, -1)
    iap = (base + model.identity_offsets).expand(b, -1, -1)
    na, ni = aap.shape[1], iap.shape[1]
    x = _vit_block(sd, 0, torch.cat([aap, tokens], 1))
    aap, tokens = x[:, :na], x[:, na:]
    x = _vit_block(sd, 1, torch.cat([iap, tokens], 1))
    iap, tokens = x[:, :ni], x[:, ni:]
    x = _vit_block(sd, 2, torch.cat([aap, iap, tokens], 1))

    def out(p):
        return F.layer_norm(
            p, (D,), sd['norm.weight'], sd['norm.bias'], 1e-6
        ).mean(1)

    return out(aap), out(iap), out(x[:, : na + ni])


def test_imagenet_vit_loads_strictly_and_matches_a_per_frame_vit(tmp_path):
    sd = _timm_vit()
    path = str(tmp_path / 'vit.pth')
    torch.save({'model': sd}, path)
    model = _tiny(pretrained=path).double()
    sd = {k: v.double() for k, v in sd.items()}
    frames = torch.randn(4, 3, 16, 16, dtype=torch.float64)  # N=2, T=2
    with torch.no_grad():
        ours = model.forward_stages(frames)
        ref = _reference_stages(sd, model, frames)
    for a, b in zip(ours, ref):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-10)
    torch.testing.assert_close(model.stage_norms[0].weight, sd['norm.weight'])


def test_vit_position_grid_is_interpolated(tmp_path):
    sd = _timm_vit()
    path = str(tmp_path / 'vit.pth')
    torch.save(sd, path)
    model = _tiny(pretrained=path, img_size=(24, 12))  # grid 6 x 3
    grid = sd['pos_embed'][:, 1:].reshape(1, 4, 4, D).permute(0, 3, 1, 2)
    expected = F.interpolate(
        grid, size=(6, 3), mode='bicubic', align_corners=False
    )
    torch.testing.assert_close(
        model.pos_embed, expected.permute(0, 2, 3, 1).reshape(1, 18, D)
    )


def test_vit_loading_errors(tmp_path):
    def save(sd):
        path = str(tmp_path / f'{len(sd)}_{sorted(sd)[-1]}.pth')
        torch.save(sd, path)
        return path

    extra = dict(_timm_vit(), **{'blocks.0.ls1.gamma': torch.ones(D)})
    with pytest.raises(RuntimeError, match=r"unknown keys \['blocks.0.ls1"):
        _tiny(pretrained=save(extra))
    with pytest.raises(RuntimeError, match='4 blocks, MSTAT has 3 layers'):
        _tiny(pretrained=save(_timm_vit(depth=4)))
    with pytest.raises(
        RuntimeError,
        match=r'has shape \(24, 3, 4, 4\), '
        r'MSTAT expects \(16, 3, 4, 4\)',
    ):
        _tiny(pretrained=save(_timm_vit(dims=24)))
    no_norm = {
        k: v for k, v in _timm_vit().items() if not k.startswith('norm.')
    }
    with pytest.raises(RuntimeError, match=r'unset: \[.stage_norms.0.weight'):
        _tiny(pretrained=save(no_norm))


def test_layouts_combine_modes_and_odd_sizes():
    model = _tiny(combine=None).eval()
    x5 = torch.randn(2, 3, 2, 19, 13)  # grid 5 x 4 (padded), interpolated
    x4 = x5.transpose(1, 2).reshape(4, 3, 19, 13)
    with torch.no_grad():
        outs = model(x4)
        torch.testing.assert_close(model(x5), outs, rtol=0, atol=0)
        assert isinstance(outs, tuple) and len(outs) == 3
        assert all(o.shape == (4, D) for o in outs)
        model.combine = 'concat'
        torch.testing.assert_close(model(x4), torch.cat(outs, 1))
        assert model.out_channels == 3 * D
        model.combine = 'mean'
        torch.testing.assert_close(model(x4), sum(outs) / 3)
        assert model.out_channels == D


def test_frames_are_independent_at_init_and_mix_after_training():
    model = _tiny(combine='concat').eval()
    x = torch.randn(2, 3, 16, 16)
    y = x.clone()
    y[1] = torch.randn(3, 16, 16)  # change frame 1 of the clip
    with torch.no_grad():
        torch.testing.assert_close(model(y)[0], model(x)[0], rtol=0, atol=0)
        for layer in model.layers:
            layer.sta.attn_t.attn.out_proj.weight.normal_(0, 0.1)
        assert not torch.allclose(model(y)[0], model(x)[0], atol=1e-4)


def test_gradients_reach_every_parameter():
    model = _tiny(combine='concat').double()
    with torch.no_grad():  # the zero-init temporal output blocks the rest
        for layer in model.layers:
            layer.sta.attn_t.attn.out_proj.weight.normal_(0, 0.1)
    grads_reach_all(model, torch.randn(4, 3, 16, 16, dtype=torch.float64))


def test_errors():
    with pytest.raises(ValueError, match='three stages'):
        MSTAT(stage_depths=(4, 8))
    with pytest.raises(ValueError, match='>= 1 proxy'):
        MSTAT(num_identity_proxies=0)
    with pytest.raises(ValueError, match='combine must be one of'):
        MSTAT(combine='sum')
    model = _tiny()
    with pytest.raises(ValueError, match='T=3, expected num_segments=2'):
        model(torch.randn(1, 3, 3, 16, 16))
    with pytest.raises(ValueError, match='not a multiple of num_segments=2'):
        model(torch.randn(3, 3, 16, 16))
    with pytest.raises(ValueError, match='expects'):
        model(torch.randn(3, 16, 16))


def test_motion_config_builds_and_steps():
    init_default_scope('mmaction')
    cfg = Config.fromfile(
        osp.join(CONFIGS, 'mstat', 'mstat-tiny_p8_1x1x8-4e_motion-rgb.py')
    )
    model = MODELS.build(cfg.model)
    model.init_weights()
    data = dict(
        inputs=[
            torch.randint(0, 256, (8, 3, 48, 48), dtype=torch.uint8)
            for _ in range(2)
        ],
        data_samples=[ActionDataSample().set_gt_label(i) for i in range(2)],
    )
    losses = model.train_step(
        data, build_optim_wrapper(model, cfg.optim_wrapper)
    )
    assert torch.isfinite(losses['loss_cls'])
    preds = model.test_step(data)
    assert preds[0].pred_score.shape == (8,)
    assert model.backbone.out_channels == cfg.model.cls_head.in_channels
