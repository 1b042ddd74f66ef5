import math

import pytest
import torch
from mmaction.registry import MODELS
from zoo_helpers import (
    check_config_steps,
    grads_reach_all,
    single_thread,  # noqa: F401  (autouse fixture)
)

from selfy_mmaction.models.blocks.sta import (
    SpaceTimeAttention,
    STABlock,
    sta_blocks,
)


def _full_attention(tokens, mha, heads, pos=None):
    """Plain multi-head self-attention among all ``L`` tokens of each row of
    ``(B, L, D)``, written from the definition with ``mha``'s weights
    (``pos`` added to the query and key inputs only)."""
    b, n, d = tokens.shape
    dh = d // heads
    w, bias = mha.in_proj_weight, mha.in_proj_bias
    qk_in = tokens if pos is None else tokens + pos
    q = qk_in @ w[:d].T + bias[:d]
    k = qk_in @ w[d : 2 * d].T + bias[d : 2 * d]
    v = tokens @ w[2 * d :].T + bias[2 * d :]
    outs = []
    for h in range(heads):
        sl = slice(h * dh, (h + 1) * dh)
        att = torch.softmax(
            q[..., sl] @ k[..., sl].transpose(1, 2) / math.sqrt(dh), dim=-1
        )
        outs.append(att @ v[..., sl])
    return torch.cat(outs, -1) @ mha.out_proj.weight.T + mha.out_proj.bias


def _loop_reference(core, x, heads):
    """STA from its definition, one frame and one position at a time."""
    n, t, s, d = x.shape
    y = x.clone()
    for i in range(n):
        for j in range(t):
            frame = x[i, j][None]
            y[i, j] = (
                frame
                + _full_attention(core.norm_s(frame), core.attn_s.attn, heads)
            )[0]
    z = y.clone()
    for i in range(n):
        for p in range(s):
            track = y[i, :, p][None]
            z[i, :, p] = (
                track
                + _full_attention(
                    core.norm_t(track), core.attn_t.attn, heads, core.pos_t
                )
            )[0]
    return z


def _perturb(module, seed=0):
    """Random non-trivial values everywhere (zero-init layers included)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype) * 0.3)
    return module


def _core(d=12, heads=3, t=3, **kw):
    core = SpaceTimeAttention(d, heads, t, **kw).double()
    core.init_weights()
    return _perturb(core)


@pytest.mark.parametrize('n,t,s', [(2, 3, 5), (1, 1, 7), (3, 4, 1), (1, 5, 2)])
def test_core_matches_per_frame_and_per_position_reference(n, t, s):
    core = _core(t=t)
    x = torch.randn(n, t, s, 12, dtype=torch.float64)
    torch.testing.assert_close(
        core(x), _loop_reference(core, x, 3), rtol=0, atol=1e-10
    )


def _joint(mha, norm, x, heads, pos=None):
    """Joint space-time attention over all T*S tokens of each clip."""
    n, t, s, d = x.shape
    flat = x.reshape(n, t * s, d)
    if pos is not None:  # (1, T, D) -> one embedding per token
        pos = pos[:, :, None].expand(1, t, s, d).reshape(1, t * s, d)
    return (flat + _full_attention(norm(flat), mha, heads, pos)).view(
        n, t, s, d
    )


def test_steps_equal_joint_full_attention_where_they_must():
    core = _core(t=1)
    # one frame: spatial attention is attention among all tokens of the clip
    x = torch.randn(2, 1, 6, 12, dtype=torch.float64)
    torch.testing.assert_close(
        core.spatial(x),
        _joint(core.attn_s.attn, core.norm_s, x, 3),
        rtol=0,
        atol=1e-10,
    )
    # one position: temporal attention is attention among all clip tokens
    core = _core(t=5)
    x = torch.randn(2, 5, 1, 12, dtype=torch.float64)
    torch.testing.assert_close(
        core.temporal(x),
        _joint(core.attn_t.attn, core.norm_t, x, 3, core.pos_t),
        rtol=0,
        atol=1e-10,
    )
    # several frames and positions: factorised, not joint
    x = torch.randn(2, 5, 4, 12, dtype=torch.float64)
    assert not torch.allclose(
        core.spatial(x), _joint(core.attn_s.attn, core.norm_s, x, 3), atol=1e-3
    )


@pytest.mark.parametrize(
    'c,t,hw,red', [(12, 3, (5, 7), 3), (8, 2, (1, 1), 2), (16, 1, (3, 2), 4)]
)
def test_block_matches_definition_on_odd_sizes(c, t, hw, red):
    block = STABlock(c, t, reduction=red, num_heads=2).double()
    block.init_weights()
    _perturb(block)
    n = 2
    x = torch.randn(n * t, c, *hw, dtype=torch.float64)
    tokens = x.view(n, t, c, -1).transpose(2, 3)
    inner = _loop_reference(block.sta, block.down(tokens), 2)
    expected = x + block.up(inner).transpose(2, 3).reshape(x.shape)
    out = block(x)
    assert out.shape == x.shape
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-10)


def test_block_is_identity_at_init_and_in_a_tsm_network():
    block = STABlock(32, 4)
    block.init_weights()
    x = torch.randn(8, 32, 3, 5)
    assert torch.equal(block(x), x)
    cfg = dict(
        type='ResNetTSMWithBlocks',
        depth=18,
        num_segments=4,
        pretrained=None,
        pretrained2d=False,
    )
    plain = MODELS.build(cfg)
    plain.init_weights()
    sta = MODELS.build(dict(cfg, blocks=sta_blocks()))
    sta.init_weights()
    missing, unexpected = sta.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected
    assert missing and all(k.startswith('stage_blocks.') for k in missing)
    blocks = [m for m in sta.modules() if isinstance(m, STABlock)]
    assert [(b.in_channels, b.embed_dims) for b in blocks] == [
        (256, 64),
        (512, 128),
    ]
    plain.eval(), sta.eval()
    frames = torch.randn(8, 3, 37, 45)
    with torch.no_grad():
        torch.testing.assert_close(sta(frames), plain(frames), rtol=0, atol=0)


def test_gradients():
    block = STABlock(16, 3, reduction=2, num_heads=2).double()
    block.init_weights()
    x = torch.randn(6, 16, 3, 2, dtype=torch.float64, requires_grad=True)
    out = block(x)
    (out * torch.randn_like(out)).sum().backward()
    # at init only W_up learns (its input is non-zero); x passes through
    assert block.up.weight.grad.abs().sum() > 0
    assert block.down.weight.grad.abs().sum() == 0
    assert x.grad is not None
    block.zero_grad()
    _perturb(block)
    grads_reach_all(block, torch.randn(6, 16, 3, 2, dtype=torch.float64))
    # float64 gradcheck of the whole block
    small = _perturb(STABlock(4, 2, reduction=2, num_heads=1).double())
    inp = torch.randn(2, 4, 2, 1, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(small, (inp,))


def test_temporal_position_embedding_makes_order_visible():
    x = torch.randn(1, 4, 3, 12, dtype=torch.float64)
    rev = x.flip(1)
    with_pos = _core(t=4)
    without = _core(t=4, temporal_pos=False)
    # without positions, reversing time only reverses the output
    torch.testing.assert_close(
        without(rev), without(x).flip(1), rtol=0, atol=1e-10
    )
    assert not torch.allclose(with_pos(rev), with_pos(x).flip(1), atol=1e-4)


def test_errors():
    with pytest.raises(ValueError, match='not divisible by reduction=5'):
        STABlock(32, 4, reduction=5)
    with pytest.raises(ValueError, match='not divisible by num_heads=3'):
        STABlock(32, 4, reduction=4, num_heads=3)
    block = STABlock(32, 4)
    with pytest.raises(ValueError, match=r'expects \(N\*T, 32, H, W\)'):
        block(torch.randn(8, 16, 3, 3))
    with pytest.raises(ValueError, match='not a multiple of num_segments=4'):
        block(torch.randn(6, 32, 3, 3))
    with pytest.raises(ValueError, match=r'T=4, S, D=8'):
        block.sta(torch.randn(1, 3, 5, 8))


@pytest.mark.parametrize(
    'name',
    [
        'sta/sta_tsm-r18_1x1x8-4e_motion-rgb.py',
        'sta/sta_imagenet-pretrained-tsm-r50_8xb8-1x1x8-50e_sthv1-rgb.py',
    ],
)
def test_configs_build_and_step(name):
    model = check_config_steps(name)
    blocks = [m for m in model.modules() if isinstance(m, STABlock)]
    assert len(blocks) == 2
    assert blocks[-1].in_channels in (512, 2048)
