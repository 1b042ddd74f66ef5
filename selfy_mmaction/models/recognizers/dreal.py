"""DREAL: Deep Reinforced Attention Learning (Li & Chen, ECCV 2020).

DREAL trains the attention modules a network already has: a recurrent
*critic* scores the attention map of every module, the *reward* of a module
is the gain in recognition its attention brings, and the attention modules
(the *actors*, i.e. the whole recognizer) and the critic are optimised in
turn. The critic is not used at test time: :class:`DREALRecognizer2D`
predicts exactly as the plain :class:`Recognizer2D` with the same weights.

What comes from the paper (its abstract; no code was released) and what is
ours:

* paper: attention modules as actors, a recurrent meta-critic over the
  modules, a discrete reward from the relative gain in recognition each
  module's attention brings, actors and critic optimised alternately, the
  critic dropped at test time;
* secondary description, not checked against the paper: an LSTM critic over
  the module sequence whose input is the pooled input feature (state) and
  the attention map (action) of each module, regressed to the reward (MSE);
  actor loss ``CE - lambda * sum_i Q_i``;
* ours (all constructor arguments): the neutral map that replaces an
  attention map to measure its gain (``neutral``), the reward formula and
  its discretisation (``reward``, ``reward_tolerance``), ``lambda``
  (``value_weight``), the number of modules ablated per step
  (``num_ablated``), the critic warm-up (``critic_warmup_iters``), the
  critic's sizes, and how reward passes run (train mode, the same random
  state as the ordinary forward, on copies of the buffers).

How an attention module is found and changed without editing it: a module
of a listed type (e.g. ``ECA``) computes its map as ``sigmoid(z)`` of the
output ``z`` of one submodule, its *gate* (``ECA.conv``,
``TEAMotionExcitation.expand``, ``TDNLongTermTDM.expand``). A forward
pre-hook on the module records its input (the state), a forward hook on the
gate records ``sigmoid(z)`` (the action) and, in a reward pass, returns the
logits of the neutral map instead of ``z``. Hooks exist only inside
:meth:`DREALRecognizer2D.train_step`.

Config (``configs/dreal/``): ``model.type='DREALRecognizer2D'`` with
``attention=[...]`` on top of any 2D recognizer config;
``optim_wrapper=dict(constructor='DREALOptimWrapperConstructor',
actor=<the recognizer's optim wrapper>, critic=...)``;
``param_scheduler=dict(actor=[...], critic=[...])``; for distributed runs
``model_wrapper_cfg=dict(type='MMSeparateDistributedDataParallel',
find_unused_parameters=True)`` (MMEngine's DDP wrapper would not call
:meth:`DREALRecognizer2D.train_step`). ``tools/dreal_export.py`` writes the
weights without the critic for the plain config.
"""

import contextlib
import functools
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.models import Recognizer2D
from mmaction.registry import MODELS
from mmengine.logging import MessageHub
from mmengine.model import BaseModule, is_model_wrapper, merge_dict
from mmengine.optim import OptimWrapperDict

#: Attention modules of the zoo: ``gate`` is the submodule whose output
#: ``z`` gives the map ``sigmoid(z)``; ``channels`` the attribute (dotted
#: path) holding the number of channels ``C`` of the module's input and of
#: the map; ``channel_dim`` the axis of ``z`` that holds the ``C`` channels;
#: ``identity`` the map value at which the module passes its input unchanged.
ATTENTION_GATES = {
    'ECA': dict(
        gate='conv', channels='in_channels', channel_dim=2, identity=1.0
    ),
    'TEAMotionExcitation': dict(
        gate='expand',
        channels='expand.out_channels',
        channel_dim=1,
        identity=0.5,
    ),
    'TDNLongTermTDM': dict(
        gate='expand',
        channels='expand.out_channels',
        channel_dim=1,
        identity=0.5,
    ),
}

_NEUTRAL = ('mean', 'identity', 'constant')
_REWARDS = ('sign', 'relative', 'difference')


def _unwrap(module: nn.Module) -> nn.Module:
    """The module inside a (DDP) wrapper, else the module itself."""
    return getattr(module, 'module', module)


def _per_clip(x: torch.Tensor, num_clips: int, name: str) -> torch.Tensor:
    """``(N*T, C)`` frame vectors -> ``(N, C)`` clip means."""
    if x.shape[0] % num_clips:
        raise ValueError(
            f'DREAL: {name} has {x.shape[0]} rows, not a '
            f'multiple of the {num_clips} clips in the batch'
        )
    return x.reshape(num_clips, -1, x.shape[1]).mean(1)


def _wrapper_free_keys(module, state_dict, prefix, local_metadata):
    """State-dict post-hook: ``<child>.module.<key>`` -> ``<child>.<key>``
    for children wrapped in DDP (``MMSeparateDistributedDataParallel``), so
    checkpoints of 1- and N-process runs have the same keys and load into
    the plain recognizer (MMEngine's loader unwraps the children itself)."""
    renames = {
        f'{prefix}{name}.module.': f'{prefix}{name}.'
        for name, child in module._modules.items()
        if is_model_wrapper(child)
    }
    if not renames:
        return
    items = list(state_dict.items())
    state_dict.clear()
    for key, value in items:
        for old, new in renames.items():
            if key.startswith(old):
                key = new + key[len(old) :]
                break
        state_dict[key] = value


@contextlib.contextmanager
def _scratch_buffers(model: nn.Module):
    """Give every module copies of its buffers for the duration, then put
    the original tensors back (never written in place)."""
    originals = []
    for module in model.modules():
        for name, buffer in module._buffers.items():
            if buffer is not None:
                originals.append((module, name, buffer))
                module._buffers[name] = buffer.clone()
    try:
        yield
    finally:
        for module, name, buffer in originals:
            module._buffers[name] = buffer


@MODELS.register_module()
class DREALCritic(BaseModule):
    """Recurrent critic: one value per attention module.

    Module ``i``'s state ``s_i`` and action ``a_i`` (both ``(N, C_i)``) are
    projected to ``embed_channels`` each (one linear layer per module and
    input, ReLU), concatenated and read by a one-layer LSTM in module order;
    a linear layer maps every hidden state to ``Q_i``.

    Args:
        channels (Sequence[int]): ``C_i`` per module; filled in by
            :class:`DREALRecognizer2D`.
        embed_channels (int): Common size of the projections. Defaults to 64.
        hidden_channels (int): LSTM hidden size. Defaults to 64.
        init_cfg (dict, optional): MMEngine init config. Defaults to None
            (PyTorch's default initialisation).

    ``forward(states, actions)`` -> ``(N, L)`` values.
    """

    def __init__(
        self,
        channels: Sequence[int],
        embed_channels: int = 64,
        hidden_channels: int = 64,
        init_cfg: Optional[dict] = None,
    ):
        super().__init__(init_cfg)
        if not channels:
            raise ValueError('DREALCritic needs at least one module')
        self.channels = tuple(int(c) for c in channels)
        self.state_proj = nn.ModuleList(
            nn.Linear(c, embed_channels) for c in self.channels
        )
        self.action_proj = nn.ModuleList(
            nn.Linear(c, embed_channels) for c in self.channels
        )
        self.lstm = nn.LSTM(
            2 * embed_channels, hidden_channels, batch_first=True
        )
        self.value = nn.Linear(hidden_channels, 1)

    def forward(
        self, states: List[torch.Tensor], actions: List[torch.Tensor]
    ) -> torch.Tensor:
        if len(states) != len(self.channels) or len(actions) != len(states):
            raise ValueError(
                f'DREALCritic expects {len(self.channels)} '
                f'states and actions, got {len(states)} and '
                f'{len(actions)}'
            )
        steps = []
        for i, (s, a) in enumerate(zip(states, actions)):
            if s.shape[1] != self.channels[i] or a.shape != s.shape:
                raise ValueError(
                    f'DREALCritic module {i}: expected state and action '
                    f'(N, {self.channels[i]}), got {tuple(s.shape)} and '
                    f'{tuple(a.shape)}'
                )
            steps.append(
                torch.cat(
                    [self.state_proj[i](s), self.action_proj[i](a)], 1
                ).relu()
            )
        hidden, _ = self.lstm(torch.stack(steps, 1))  # (N, L, hidden)
        return self.value(hidden).squeeze(2)


class _AttentionTaps:
    """Hooks on the attention modules for one forward pass: record states
    and actions, and replace the maps of the modules in ``ablate``."""

    def __init__(self, modules, specs, neutral, neutral_value):
        self.modules, self.specs = modules, specs
        self.neutral, self.neutral_value = neutral, neutral_value
        self.ablate = frozenset()
        self.states: Dict[int, torch.Tensor] = {}
        self.actions: Dict[int, List[torch.Tensor]] = {}
        self._handles = []

    def __enter__(self):
        for i, (module, spec) in enumerate(zip(self.modules, self.specs)):
            gate = module.get_submodule(spec['gate'])
            self._handles.append(
                module.register_forward_pre_hook(
                    functools.partial(self._state, i)
                )
            )
            self._handles.append(
                gate.register_forward_hook(functools.partial(self._gate, i))
            )
        return self

    def __exit__(self, *exc):
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def _state(self, i, module, args):
        x = args[0]
        self.states[i] = x.detach().flatten(2).mean(2)

    def _gate(self, i, module, args, z):
        attention = torch.sigmoid(z)
        channel_dim = self.specs[i]['channel_dim']
        self.actions.setdefault(i, []).append(
            attention.movedim(channel_dim, 1).flatten(2).mean(2)
        )
        if i not in self.ablate:
            return None
        if self.neutral == 'mean':
            dims = tuple(range(1, z.dim()))
            value = attention.mean(dims, keepdim=True).expand_as(z)
            return torch.logit(value)
        value = (
            self.specs[i]['identity']
            if self.neutral == 'identity'
            else self.neutral_value
        )
        return torch.full_like(z, float(torch.logit(torch.tensor(value))))

    def clip_vectors(self, num_clips):
        """States and actions per module, ``(N, C_i)`` each (a module whose
        gate ran several times: the mean of its maps)."""
        missing = [
            i
            for i in range(len(self.modules))
            if i not in self.states or i not in self.actions
        ]
        if missing:
            raise RuntimeError(
                f'DREAL: attention modules {missing} (in hook '
                f'order) did not run in the forward pass'
            )
        states = [
            _per_clip(self.states[i], num_clips, f'module {i} state')
            for i in range(len(self.modules))
        ]
        actions = [
            _per_clip(
                torch.stack(self.actions[i]).mean(0),
                num_clips,
                f'module {i} attention map',
            )
            for i in range(len(self.modules))
        ]
        return states, actions


@MODELS.register_module()
class DREALRecognizer2D(Recognizer2D):
    """A :class:`Recognizer2D` trained with DREAL (see the module docstring).

    Training step (:meth:`train_step`, with an ``OptimWrapperDict`` of
    ``actor`` and ``critic``, see ``DREALOptimWrapperConstructor``):

    1. the ordinary forward; hooks record per module the clip-averaged input
       feature ``s_i`` (state) and attention map ``a_i`` (action),
       ``(N, C_i)``;
    2. for ``num_ablated`` modules drawn by a generator seeded with
       ``(seed, iteration)``: a forward under ``no_grad`` with that module's
       map replaced by the neutral map; the reward ``r_i`` compares the
       ground-truth probability ``p`` with and without the module's map;
    3. critic update: ``MSE(Q_i(s, a), r_i)`` over the ablated modules, on
       detached inputs;
    4. actor update: the recognizer's losses ``- value_weight * sum_i Q_i``
       (mean over clips; after ``critic_warmup_iters`` only), with the
       critic's parameters frozen: its gradient reaches the attention maps
       (and all that computes them) and never the critic.

    Reward passes run in train mode with the same random state as the
    ordinary forward (same dropout masks, batch statistics) on copies of the
    model's buffers (BN running statistics stay as the ordinary forward left
    them), so only the ablated map differs. Validation and test are
    Recognizer2D's.

    Args:
        attention (list[str | dict]): Attention module types, found in the
            backbone by type. A name of :data:`ATTENTION_GATES`, or a dict
            ``dict(type=..., gate=..., channels=..., channel_dim=1,
            identity=...)`` for other modules with a sigmoid gate (a known
            type's dict overrides its entries). Defaults to ``['ECA']``.
        critic (dict): Config of the critic; ``channels`` is filled in.
            Defaults to ``dict(type='DREALCritic')``.
        neutral (str): Map that replaces an ablated one (ours):
            ``'mean'`` the per-frame mean of the map over all its entries
            (keeps the average gain, removes the selection), ``'identity'``
            the map that makes the module the identity (``identity`` of its
            spec), ``'constant'`` ``neutral_value`` everywhere. Defaults to
            ``'mean'``.
        neutral_value (float): Map value for ``neutral='constant'``, in
            ``(0, 1)``. Defaults to 0.5.
        reward (str): ``g = (p_with - p_without) / p_without`` is the
            relative gain of one clip (paper: relative gain; the formula is
            ours). ``'sign'``: the discrete reward ``sign(g)``, 0 where
            ``|g| <= reward_tolerance`` (paper: discrete; the levels are
            ours); ``'relative'``: ``g``; ``'difference'``:
            ``p_with - p_without``. Defaults to ``'sign'``.
        reward_tolerance (float): Dead zone of ``'sign'``. Defaults to 0.01.
        value_weight (float): ``lambda``. Defaults to 0.1 (ours).
        num_ablated (int, optional): Modules ablated (reward passes) per
            step; None: all. Defaults to 1 (ours).
        critic_warmup_iters (int): Iterations in which only the critic
            learns from the values (the actor loss has no ``-lambda Q``
            term). Defaults to 100 (ours).
        seed (int, optional): Seed of the ablation choices, drawn by a
            ``torch.Generator`` seeded from ``(seed, iteration)`` (so a
            resumed run repeats them without saved state). None: the torch
            seed when the model is built (MMEngine's runner seeds before
            building the model, so ``randomness.seed``). Defaults to None.
        **kwargs: :class:`Recognizer2D`'s arguments (backbone, cls_head,
            neck, train_cfg, test_cfg, data_preprocessor).
    """

    def __init__(
        self,
        attention: Sequence[Union[str, dict]] = ('ECA',),
        critic: dict = dict(type='DREALCritic'),
        neutral: str = 'mean',
        neutral_value: float = 0.5,
        reward: str = 'sign',
        reward_tolerance: float = 0.01,
        value_weight: float = 0.1,
        num_ablated: Optional[int] = 1,
        critic_warmup_iters: int = 100,
        seed: Optional[int] = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if neutral not in _NEUTRAL:
            raise ValueError(
                f'neutral must be one of {_NEUTRAL}, got {neutral!r}'
            )
        if not 0 < neutral_value < 1:
            raise ValueError(
                f'neutral_value must be in (0, 1), got {neutral_value}'
            )
        if reward not in _REWARDS:
            raise ValueError(
                f'reward must be one of {_REWARDS}, got {reward!r}'
            )
        self.neutral, self.neutral_value = neutral, neutral_value
        self.reward, self.reward_tolerance = reward, reward_tolerance
        self.value_weight = value_weight
        self.critic_warmup_iters = critic_warmup_iters
        self.seed = torch.initial_seed() if seed is None else int(seed)

        specs = [self._spec(entry) for entry in attention]
        classes = tuple(spec['class'] for spec in specs)
        self._attention_modules, self._specs = [], []
        for module in self.backbone.modules():
            if isinstance(module, classes):
                spec = specs[
                    [isinstance(module, c) for c in classes].index(True)
                ]
                self._attention_modules.append(module)
                self._specs.append(spec)
        if not self._attention_modules:
            present = sorted(
                {type(m).__name__ for m in self.backbone.modules()}
            )
            raise ValueError(
                f'DREAL: none of the attention types '
                f'{[s["type"] for s in specs]} occurs in the backbone '
                f'({type(self.backbone).__name__}); its module types are '
                f'{present}'
            )
        channels = []
        for module, spec in zip(self._attention_modules, self._specs):
            try:
                module.get_submodule(spec['gate'])
                channels.append(
                    functools.reduce(
                        getattr, spec['channels'].split('.'), module
                    )
                )
            except AttributeError as error:
                raise ValueError(
                    f'DREAL: {spec["type"]} module has no {error}; check '
                    f'gate={spec["gate"]!r} and channels='
                    f'{spec["channels"]!r}'
                ) from error
        num_modules = len(channels)
        if num_ablated is None:
            num_ablated = num_modules
        if not 1 <= num_ablated <= num_modules:
            raise ValueError(
                f'num_ablated must be in [1, {num_modules}] '
                f'(attention modules found), got {num_ablated}'
            )
        self.num_ablated = num_ablated
        self.critic = MODELS.build(dict(critic, channels=channels))
        self.register_state_dict_post_hook(_wrapper_free_keys)

    @staticmethod
    def _spec(entry: Union[str, dict]) -> dict:
        """Full spec of one listed attention type."""
        entry = dict(type=entry) if isinstance(entry, str) else dict(entry)
        name = entry.get('type')
        spec = dict(ATTENTION_GATES.get(name, {}), **entry)
        missing = {'gate', 'channels', 'channel_dim', 'identity'} - set(spec)
        if missing:
            raise ValueError(
                f'DREAL attention type {name!r} is not one of '
                f'{sorted(ATTENTION_GATES)}; its dict needs {sorted(missing)}'
            )
        spec['class'] = MODELS.get(name)
        if spec['class'] is None:
            raise ValueError(
                f'DREAL attention type {name!r} is not registered in MODELS'
            )
        return spec

    @property
    def attention_modules(self) -> List[nn.Module]:
        """The hooked modules, in critic (module traversal) order."""
        return list(self._attention_modules)

    def _taps(self) -> _AttentionTaps:
        return _AttentionTaps(
            self._attention_modules,
            self._specs,
            self.neutral,
            self.neutral_value,
        )

    def ablation_choice(self, iteration: int) -> List[int]:
        """Indices of the modules ablated at ``iteration`` (sorted)."""
        key = np.random.SeedSequence([self.seed % 2**63, int(iteration)])
        generator = torch.Generator().manual_seed(
            int(key.generate_state(1, dtype=np.uint64)[0])
        )
        order = torch.randperm(
            len(self._attention_modules), generator=generator
        )
        return sorted(order[: self.num_ablated].tolist())

    def compute_reward(
        self, p_with: torch.Tensor, p_without: torch.Tensor
    ) -> torch.Tensor:
        """Reward from the ground-truth probabilities with and without a
        module's attention (any shape)."""
        if self.reward == 'difference':
            return p_with - p_without
        gain = (p_with - p_without) / p_without.clamp(min=1e-12)
        if self.reward == 'relative':
            return gain
        return torch.sign(gain) * (gain.abs() > self.reward_tolerance)

    def _scores(self, inputs, data_samples):
        """Head scores ``(N, num_classes)`` and the recognizer's losses."""
        feats, loss_kwargs = self.extract_feat(
            inputs, data_samples=data_samples
        )
        scores = self.cls_head(feats, **loss_kwargs)
        return scores, loss_kwargs.get('loss_aux', dict())

    @staticmethod
    def _gt_probability(scores, data_samples):
        labels = torch.stack([s.gt_label for s in data_samples]).view(-1)
        if labels.numel() != scores.shape[0]:
            raise ValueError(
                'DREAL rewards need one class label per clip, '
                f'got labels of shape {tuple(labels.shape)} for '
                f'{scores.shape[0]} clips'
            )
        probs = scores.float().softmax(1)
        return probs.gather(1, labels.to(scores.device).view(-1, 1))[:, 0]

    def predict(self, inputs: torch.Tensor, data_samples, **kwargs):
        """Recognizer2D's prediction; the head is reached through a DDP
        wrapper too (``MMSeparateDistributedDataParallel`` wraps every
        submodule, and a wrapper has no ``predict``)."""
        feats, predict_kwargs = self.extract_feat(inputs, test_mode=True)
        return _unwrap(self.cls_head).predict(
            feats, data_samples, **predict_kwargs
        )

    def ablation_rewards(
        self,
        inputs: torch.Tensor,
        data_samples,
        p_with: torch.Tensor,
        modules: Sequence[int],
        rng_states=None,
    ) -> torch.Tensor:
        """Rewards ``(N, len(modules))`` of the listed modules (indices in
        :attr:`attention_modules`): one forward under ``no_grad`` per module
        with its map replaced by the neutral map, compared with ``p_with``,
        the ground-truth probabilities ``(N,)`` of the ordinary forward.

        Every pass starts from ``rng_states`` (``(cpu_state, cuda_state or
        None)``, the states before the ordinary forward; None: the current
        ones) and the global states are left as they were; the passes run
        on copies of the model's buffers (e.g. BN running statistics), so the
        buffers, and the autograd graph of the ordinary forward that saved
        them, stay untouched."""
        devices = [inputs.device] if inputs.is_cuda else []
        if rng_states is None:
            rng_states = (
                torch.get_rng_state(),
                torch.cuda.get_rng_state(inputs.device)
                if inputs.is_cuda
                else None,
            )
        rewards = []
        with torch.no_grad(), _scratch_buffers(self):
            for i in modules:
                with torch.random.fork_rng(devices):
                    torch.set_rng_state(rng_states[0])
                    if rng_states[1] is not None:
                        torch.cuda.set_rng_state(rng_states[1], inputs.device)
                    with self._taps() as ablation:
                        ablation.ablate = frozenset([i])
                        scores, _ = self._scores(inputs, data_samples)
                rewards.append(
                    self.compute_reward(
                        p_with, self._gt_probability(scores, data_samples)
                    )
                )
        return torch.stack(rewards, 1)

    def train_step(
        self, data, optim_wrapper: OptimWrapperDict
    ) -> Dict[str, torch.Tensor]:
        """One DREAL step (class docstring); returns the log variables:
        ``loss`` (actor), the recognizer's losses, ``loss_critic``,
        ``dreal_value`` (mean ``Q`` over clips and modules) and
        ``dreal_reward`` (mean reward of the ablated modules)."""
        if not (
            isinstance(optim_wrapper, OptimWrapperDict)
            and {'actor', 'critic'} <= set(optim_wrapper.keys())
        ):
            raise TypeError(
                'DREALRecognizer2D.train_step needs an OptimWrapperDict with '
                "'actor' and 'critic' (optim_wrapper=dict(constructor="
                "'DREALOptimWrapperConstructor', actor=..., critic=...)), got "
                f'{type(optim_wrapper).__name__}'
            )
        iteration = MessageHub.get_current_instance().get_info('iter')
        if iteration is None:
            raise RuntimeError(
                'DREAL needs the iteration as MessageHub info '
                "'iter' (MMEngine's RuntimeInfoHook sets it)"
            )
        actor, critic = optim_wrapper['actor'], optim_wrapper['critic']
        head = _unwrap(self.cls_head)

        with actor.optim_context(self):
            data = self.data_preprocessor(data, True)
            inputs, data_samples = data['inputs'], data['data_samples']
            rng = torch.get_rng_state()
            cuda_rng = (
                torch.cuda.get_rng_state(inputs.device)
                if inputs.is_cuda
                else None
            )
            with self._taps() as taps:
                scores, loss_aux = self._scores(inputs, data_samples)
            losses = merge_dict(
                head.loss_by_feat(scores, data_samples), loss_aux
            )
        states, actions = taps.clip_vectors(len(data_samples))

        ablated = self.ablation_choice(iteration)
        p_with = self._gt_probability(scores.detach(), data_samples)
        rewards = self.ablation_rewards(
            inputs, data_samples, p_with, ablated, (rng, cuda_rng)
        )

        with critic.optim_context(self.critic):
            values = self.critic(
                [s.detach() for s in states], [a.detach() for a in actions]
            )
            loss_critic = F.mse_loss(values[:, ablated], rewards)
        critic.update_params(loss_critic)

        loss, log_vars = self.parse_losses(losses)
        with actor.optim_context(self):
            critic_module = _unwrap(self.critic)
            flags = [p.requires_grad for p in critic_module.parameters()]
            for p in critic_module.parameters():
                p.requires_grad_(False)
            try:
                values = critic_module([s.detach() for s in states], actions)
            finally:
                for p, flag in zip(critic_module.parameters(), flags):
                    p.requires_grad_(flag)
            value = values.sum(1).mean()
            if iteration >= self.critic_warmup_iters:
                loss = loss - self.value_weight * value
        actor.update_params(loss)

        log_vars['loss'] = loss.detach()
        log_vars['loss_critic'] = loss_critic.detach()
        log_vars['dreal_value'] = values.detach().mean()
        log_vars['dreal_reward'] = rewards.mean()
        return log_vars


def plain_state_dict(state_dict: Dict[str, torch.Tensor]) -> Dict:
    """The weights of the plain recognizer: ``state_dict`` of a
    :class:`DREALRecognizer2D` (a DDP ``module.`` prefix removed) without
    the critic's entries."""
    plain = type(state_dict)()
    for key, value in state_dict.items():
        key = key[len('module.') :] if key.startswith('module.') else key
        if not key.startswith('critic.'):
            plain[key] = value
    return plain
