"""DREAL (selfy_mmaction.models.recognizers.dreal): rewards on a hand-built
two-module network, hooks, gradients of the two losses, inference equal to
the plain recognizer, the optimiser constructor, errors."""

import copy
import math
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper, OptimWrapperDict, build_optim_wrapper
from mmengine.registry import init_default_scope
from zoo_helpers import (
    CONFIGS,
    check_config_steps,  # noqa: F401
)  # (autouse fixture)

from selfy_mmaction.models.recognizers import plain_state_dict


@MODELS.register_module(force=True)
class _DREALToyGate(nn.Module):
    """``x * sigmoid(z)`` with ``z = fc(mean(x))``: the map is the fc's
    bias alone when its weight is zero."""

    def __init__(self, bias):
        super().__init__()
        self.channels = len(bias)
        self.fc = nn.Conv2d(self.channels, self.channels, 1)
        with torch.no_grad():
            self.fc.weight.zero_()
            self.fc.bias.copy_(torch.tensor(bias))

    def forward(self, x):
        return x * torch.sigmoid(self.fc(x.mean((2, 3), keepdim=True)))


@MODELS.register_module(force=True)
class _DREALToyBackbone(nn.Sequential):
    """Two gates: the first keeps channel 0 (map 0.9, 0.1), the second
    keeps channel 1 (map 0.2, 0.8)."""

    def __init__(self):
        super().__init__(
            _DREALToyGate([math.log(9), -math.log(9)]),
            _DREALToyGate([-math.log(4), math.log(4)]),
        )


TOY_GATE = dict(
    type='_DREALToyGate',
    gate='fc',
    channels='channels',
    channel_dim=1,
    identity=1.0,
)


def _toy(**kwargs):
    init_default_scope('mmaction')
    model = MODELS.build(
        dict(
            type='DREALRecognizer2D',
            backbone=dict(type='_DREALToyBackbone'),
            cls_head=dict(
                type='TSNHead',
                num_classes=2,
                in_channels=2,
                dropout_ratio=0.0,
                average_clips='prob',
            ),
            attention=[TOY_GATE],
            seed=0,
            **dict(dict(neutral='constant', reward='relative'), **kwargs),
        )
    )
    with torch.no_grad():  # logits = 10 * channel means
        model.cls_head.fc_cls.weight.copy_(10 * torch.eye(2))
        model.cls_head.fc_cls.bias.zero_()
    return model


def _ones_batch(clips=2, frames=3, size=4, label=0):
    inputs = torch.ones(clips, frames, 2, size, size)
    samples = [ActionDataSample().set_gt_label(label) for _ in range(clips)]
    return inputs, samples


def _p0(channels):
    """Softmax probability of class 0 for logits 10 * channels."""
    return torch.tensor(10 * (channels[0] - channels[1])).sigmoid()


def test_rewards_of_a_two_module_network_with_known_gains():
    """All-ones input: the full net gives channels (0.9*0.2, 0.1*0.8);
    without module 0's map (0.5) (0.5*0.2, 0.5*0.8), without module 1's
    (0.9*0.5, 0.1*0.5). Module 0 helps class 0, module 1 hurts it."""
    model = _toy()
    model.train()
    inputs, samples = _ones_batch()
    p_with = _p0((0.18, 0.08))
    p_without = [_p0((0.1, 0.4)), _p0((0.45, 0.05))]
    scores, _ = model._scores(inputs, samples)
    assert torch.allclose(
        model._gt_probability(scores, samples), p_with.expand(2), atol=1e-6
    )
    gains = model.ablation_rewards(inputs, samples, p_with.expand(2), [0, 1])
    expected = torch.stack([(p_with - p) / p for p in p_without])
    assert gains.shape == (2, 2)
    assert torch.allclose(gains, expected.expand(2, 2), rtol=1e-5)
    assert gains[0, 0] > 0 > gains[0, 1]
    # the discrete reward is the sign; the difference its numerator
    model.reward = 'sign'
    assert torch.equal(
        model.compute_reward(p_with, p_without[0]), torch.tensor(1.0)
    )
    assert torch.equal(
        model.compute_reward(p_with, p_without[1]), torch.tensor(-1.0)
    )
    assert model.compute_reward(p_with, p_with * 1.005) == 0  # tolerance
    model.reward = 'difference'
    assert torch.allclose(
        model.compute_reward(p_with, p_without[0]), p_with - p_without[0]
    )


@pytest.mark.parametrize(
    'neutral,maps',
    [
        ('identity', ((1.0, 1.0), (1.0, 1.0))),
        ('constant', ((0.5, 0.5), (0.5, 0.5))),
        ('mean', ((0.5, 0.5), (0.5, 0.5))),  # both maps have mean 0.5
    ],
)
def test_neutral_maps(neutral, maps):
    model = _toy(neutral=neutral)
    inputs, samples = _ones_batch()
    for i, (first, second) in enumerate(maps):
        full = [(0.9, 0.1), (0.2, 0.8)]
        full[i] = (first, second)
        channels = (full[0][0] * full[1][0], full[0][1] * full[1][1])
        with model._taps() as taps:
            taps.ablate = frozenset([i])
            scores, _ = model._scores(inputs, samples)
        assert torch.allclose(
            model._gt_probability(scores, samples),
            _p0(channels).expand(2),
            atol=1e-5,
        ), (neutral, i)


def test_reward_passes_leave_buffers_and_random_state_alone():
    model = _eca_model()
    model.train()
    inputs, samples = _batch(model)
    before = copy.deepcopy(model.state_dict())
    rng = torch.get_rng_state()
    model.ablation_rewards(inputs, samples, torch.ones(2), [0, 3])
    assert torch.equal(torch.get_rng_state(), rng)
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def _eca_model(blocks=None, attention=('ECA',), **kwargs):
    init_default_scope('mmaction')
    cfg = Config.fromfile(
        osp.join(CONFIGS, 'dreal', 'dreal_eca-tsm-r18_1x1x8-4e_motion-rgb.py')
    )
    model_cfg = copy.deepcopy(cfg.model)
    if blocks is not None:
        model_cfg.backbone.blocks = blocks
    model_cfg.attention = list(attention)
    model_cfg.seed = 0
    model_cfg.update(kwargs)
    return MODELS.build(model_cfg)  # PyTorch's default init is enough here


def _batch(model, clips=2, size=32):
    inputs = torch.randn(clips, 8, 3, size, size)
    samples = [ActionDataSample().set_gt_label(i % 8) for i in range(clips)]
    return inputs, samples


def _data(clips=2, size=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return dict(
        inputs=[
            torch.randint(
                0, 256, (8, 3, size, size), dtype=torch.uint8, generator=g
            )
            for _ in range(clips)
        ],
        data_samples=[
            ActionDataSample().set_gt_label(i % 8) for i in range(clips)
        ],
    )


MIXED = [
    dict(
        cfg=dict(type='ECA', kernel_size=3),
        position='after_conv2',
        layers=('layer1', 'layer3'),
    ),
    dict(
        cfg=dict(type='TEAMotionExcitation', reduction=16),
        position='after_conv1',
        layers=('layer2', 'layer4'),
    ),
]


@pytest.mark.parametrize(
    'attention,types',
    [
        (['ECA'], ['ECA'] * 4),
        (['TEAMotionExcitation'], ['TEAMotionExcitation'] * 4),
        (
            ['ECA', 'TEAMotionExcitation'],
            ['ECA', 'ECA', 'TEAMotionExcitation', 'TEAMotionExcitation'] * 2,
        ),
    ],
)
def test_critic_sees_exactly_the_hooked_modules(attention, types):
    """ECA in layers 1 and 3, TEA's ME in layers 2 and 4 (2 blocks each):
    the listed types only, in forward order, with their channels."""
    model = _eca_model(blocks=MIXED, attention=attention)
    modules = model.attention_modules
    if len(attention) == 2:  # forward order: layer by layer
        types = (
            ['ECA'] * 2
            + ['TEAMotionExcitation'] * 2
            + ['ECA'] * 2
            + ['TEAMotionExcitation'] * 2
        )
    assert [type(m).__name__ for m in modules] == types
    expected = [
        m for m in model.backbone.modules() if type(m).__name__ in attention
    ]
    assert [id(m) for m in modules] == [id(m) for m in expected]
    inputs, samples = _batch(model)
    with model._taps() as taps:
        model._scores(inputs, samples)
    states, actions = taps.clip_vectors(2)
    widths = [s.shape[1] for s in states]
    assert widths == list(model.critic.channels)
    assert [a.shape for a in actions] == [s.shape for s in states]
    assert all(s.shape[0] == 2 for s in states)
    assert all(((a > 0) & (a < 1)).all() for a in actions)
    assert len(model.critic(states, actions)[0]) == len(modules)


def test_no_hooks_outside_train_step_and_inference_equals_plain():
    """Val/test of the DREAL model are bit-identical to the plain
    Recognizer2D loading the exported weights (no critic)."""
    model = _eca_model()
    data = _data()
    model.eval()
    for module in model.modules():
        assert not module._forward_hooks and not module._forward_pre_hooks
    init_default_scope('mmaction')
    cfg = Config.fromfile(
        osp.join(CONFIGS, 'eca', 'eca_r18_1x1x8-4e_motion-rgb.py')
    )
    plain = MODELS.build(cfg.model)
    weights = plain_state_dict(model.state_dict())
    assert not [k for k in weights if 'critic' in k]
    plain.load_state_dict(weights, strict=True)
    plain.eval()
    ours = model.test_step(data)
    theirs = plain.test_step(data)
    for a, b in zip(ours, theirs):
        assert torch.equal(a.pred_score, b.pred_score)


def _optim(model, lr=1e-2):
    return build_optim_wrapper(
        model,
        dict(
            constructor='DREALOptimWrapperConstructor',
            actor=dict(
                type='OptimWrapper',
                optimizer=dict(
                    type='SGD', lr=lr, momentum=0.9, weight_decay=1e-4
                ),
                paramwise_cfg=dict(norm_decay_mult=0.0),
            ),
            critic=dict(
                type='OptimWrapper', optimizer=dict(type='Adam', lr=lr)
            ),
        ),
    )


def test_optim_constructor_splits_actor_and_critic():
    model = _eca_model()
    optim = _optim(model)
    assert isinstance(optim, OptimWrapperDict)
    actor = {
        id(p)
        for g in optim['actor'].optimizer.param_groups
        for p in g['params']
    }
    critic = {
        id(p)
        for g in optim['critic'].optimizer.param_groups
        for p in g['params']
    }
    assert critic == {id(p) for p in model.critic.parameters()}
    assert actor == {
        id(p)
        for n, p in model.named_parameters()
        if not n.startswith('critic.')
    }
    with pytest.raises(ValueError, match="'actor' and 'critic'"):
        build_optim_wrapper(
            model,
            dict(
                constructor='DREALOptimWrapperConstructor',
                actor=dict(optimizer=dict(type='SGD', lr=0.1)),
            ),
        )


class _Recording(OptimWrapper):
    """Keeps the gradients it sees at ``step`` (before zero_grad)."""

    def step(self, **kwargs):
        self.seen = {
            id(p): None if p.grad is None else p.grad.clone()
            for g in self.optimizer.param_groups
            for p in g['params']
        }
        super().step(**kwargs)


def _recording_step(model, value_weight, iteration=5):
    model.value_weight = value_weight
    params = dict(model.named_parameters())
    actor = [p for n, p in params.items() if not n.startswith('critic.')]
    optim = OptimWrapperDict(
        actor=_Recording(torch.optim.SGD(actor, lr=0.0)),
        critic=_Recording(torch.optim.SGD(model.critic.parameters(), lr=0.0)),
    )
    MessageHub.get_current_instance().update_info('iter', iteration)
    torch.manual_seed(0)
    log = model.train_step(_data(), optim)
    return log, optim, params


def test_gradients_actor_loss_reaches_attention_not_critic():
    model = _eca_model(critic_warmup_iters=0, num_ablated=None)
    log_0, optim_0, params = _recording_step(model, 0.0)
    log_1, optim_1, _ = _recording_step(model, 1.0)
    for key in (
        'loss',
        'loss_cls',
        'loss_critic',
        'dreal_value',
        'dreal_reward',
    ):
        assert torch.isfinite(torch.as_tensor(log_1[key])), key
    actor_seen = optim_1['actor'].seen
    # the value term's gradient reaches every ECA conv (the attention
    # parameters): lambda changes it
    eca = [n for n, m in model.named_modules() if type(m).__name__ == 'ECA']
    assert len(eca) == 8
    for name in eca:
        p = params[f'{name}.conv.weight']
        g0, g1 = optim_0['actor'].seen[id(p)], actor_seen[id(p)]
        assert g1 is not None and not torch.allclose(g0, g1), name
    # the critic learns from all 8 rewards (num_ablated=None); the actor
    # step never saw a critic gradient, the critic step never an actor one
    for name, p in params.items():
        if name.startswith('critic.'):
            g = optim_1['critic'].seen[id(p)]
            assert g is not None and g.abs().sum() > 0, name
            assert p.grad is None, name  # nothing from the actor loss
        else:
            assert id(p) not in optim_1['critic'].seen
    assert torch.allclose(
        log_1['loss'],
        log_1['loss_cls'] - log_1['dreal_value'] * len(eca),
        atol=1e-5,
    )


def test_warmup_actor_loss_has_no_value_term():
    model = _eca_model(critic_warmup_iters=10)
    log, _, _ = _recording_step(model, 1.0, iteration=9)
    assert torch.equal(log['loss'], log['loss_cls'])


def test_ablation_choice_is_a_function_of_seed_and_iteration():
    model = _eca_model(num_ablated=3)
    choices = [model.ablation_choice(i) for i in range(20)]
    assert all(len(c) == 3 and len(set(c)) == 3 for c in choices)
    assert choices == [model.ablation_choice(i) for i in range(20)]
    assert len({tuple(c) for c in choices}) > 5
    other = _eca_model(num_ablated=3, seed=1)
    assert choices != [other.ablation_choice(i) for i in range(20)]
    assert _eca_model(num_ablated=None).num_ablated == 8


def test_clear_errors():
    with pytest.raises(
        ValueError,
        match=r'none of the attention types '
        r"\['TDNLongTermTDM'\] occurs in the backbone "
        r'\(ResNetTSMWithBlocks\)',
    ):
        _eca_model(attention=['TDNLongTermTDM'])
    with pytest.raises(ValueError, match='needs'):
        _eca_model(attention=[dict(type='TSIMotionExcitation')])
    with pytest.raises(ValueError, match="has no .*'nothing'"):
        _eca_model(attention=[dict(type='ECA', gate='nothing')])
    with pytest.raises(ValueError, match=r'num_ablated must be in \[1, 8\]'):
        _eca_model(num_ablated=9)
    with pytest.raises(ValueError, match='neutral must be one of'):
        _eca_model(neutral='zero')
    model = _eca_model()
    MessageHub.get_current_instance().update_info('iter', 0)
    with pytest.raises(TypeError, match='OptimWrapperDict'):
        model.train_step(
            _data(), OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
        )


@pytest.mark.parametrize(
    'name',
    [
        'dreal_eca-tsm-r18_1x1x8-4e_motion-rgb.py',
        'dreal_tea-me-tsm-r18_1x1x8-4e_motion-rgb.py',
        'dreal_eca-tsm_imagenet-pretrained-r50_8xb8-1x1x8-50e_sthv1-rgb.py',
    ],
)
def test_configs_build_and_step(name):
    """Each config's model hooks one module per residual block and takes a
    train step (the optim-wrapper dict of the config) and a test step."""
    MessageHub.get_current_instance().update_info('iter', 10**6)
    model = check_config_steps(osp.join('dreal', name))
    blocks = 16 if 'r50' in name else 8
    assert len(model.attention_modules) == blocks
    assert len(model.critic.channels) == blocks


@pytest.mark.parametrize(
    'name,kwargs',
    [
        ('ECA', dict(in_channels=16, kernel_size=3)),
        ('TEAMotionExcitation', dict(in_channels=16, num_segments=4)),
        ('TDNLongTermTDM', dict(in_channels=16, num_segments=4)),
    ],
)
def test_known_gates(name, kwargs):
    """Every ATTENTION_GATES entry: the hooks see a (frames, C) map in
    (0, 1) with C from its ``channels`` attribute, and the 'identity'
    neutral map makes the module pass its input unchanged."""
    from selfy_mmaction.models.recognizers import DREALRecognizer2D
    from selfy_mmaction.models.recognizers.dreal import _AttentionTaps

    init_default_scope('mmaction')
    module = MODELS.build(dict(type=name, **kwargs)).eval()
    spec = DREALRecognizer2D._spec(name)
    x = torch.randn(8, 16, 6, 6)
    with _AttentionTaps([module], [spec], 'identity', 0.5) as taps:
        y = module(x)
    states, actions = taps.clip_vectors(2)
    assert states[0].shape == actions[0].shape == (2, 16)
    assert ((actions[0] > 0) & (actions[0] < 1)).all()
    assert not torch.allclose(y, x)
    with _AttentionTaps([module], [spec], 'identity', 0.5) as taps:
        taps.ablate = frozenset([0])
        assert torch.allclose(module(x), x, atol=1e-6)
