"""Each forward model (and its ablation options) learns a small deterministic transition set.

Seen transitions: DoorKey-5x5 (egocentric view) under seeded random actions; unseen ones
come from other level seeds. After training, the loss must have fallen and the reward
(prediction error) must be higher on the unseen transitions than on the trained ones.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from curiosity.envs import make_vector_env, onehot_planes_batched
from curiosity.intrinsic import TransitionBatch
from curiosity.intrinsic.forward_conv import ForwardConv
from curiosity.intrinsic.forward_resnet import ForwardResNet
from curiosity.intrinsic.forward_transformer import ForwardTransformer

ENV = OmegaConf.create({"id": "MiniGrid-DoorKey-5x5-v0", "num_envs": 4, "vectorization": "sync",
                        "backend": "python", "full_obs": False, "sticky_action_prob": 0.0,
                        "max_episode_steps": None, "noisy_tv": "none", "train_levels": 0})


def _transitions(seed: int, steps: int = 8):
    envs = make_vector_env(ENV, seed)
    # this fixed 32-transition data set (env i reset with seed + i) is what the margins
    # below were set on; the run streams of curiosity.seeding would draw another one
    envs.env_seeds = [seed + i for i in range(ENV.num_envs)]
    rng = np.random.default_rng(seed)
    obs, _ = envs.reset()
    rows = []
    for _ in range(steps):
        actions = rng.integers(3, size=4)  # left, right, forward: the moves that change the view
        before = obs
        obs, *_, info = envs.step(actions)
        rows.append((before, actions, info["next_obs"]))
    envs.close()
    o, a, n = (torch.as_tensor(np.concatenate(x)) for x in zip(*rows))
    batch = TransitionBatch(o, a.long(), n, onehot_planes_batched(o), onehot_planes_batched(n))
    return batch, envs.single_observation_space, envs.single_action_space


@pytest.fixture(scope="module")
def data():
    seen, obs_space, action_space = _transitions(seed=0)
    unseen, _, _ = _transitions(seed=1000)
    return seen, unseen, obs_space, action_space


SMALL_CONV = {"hidden_channels": 16, "feature_dim": 8}
# the first case of each class is its default configuration (shrunk), which must also
# separate seen from unseen transitions clearly; the ablations need only rank them right
DEFAULTS = (0, 4, 6)
CASES = [
    (ForwardConv, SMALL_CONV),
    (ForwardConv, {**SMALL_CONV, "target": "next", "loss": "mse", "action_cond": "film"}),
    (ForwardConv, {**SMALL_CONV, "features": "random"}),
    (ForwardConv, {**SMALL_CONV, "features": "inverse"}),
    (ForwardResNet, {**SMALL_CONV, "num_blocks": 2}),
    (ForwardResNet, {**SMALL_CONV, "num_blocks": 2, "action_cond": "film", "target": "next"}),
    (ForwardTransformer, {"d_model": 16, "num_heads": 2, "predictor_layers": 1}),
    # since its targets are the cells' content only, the EMA/next ablation separates this toy
    # set's unseen from seen transitions by 2-5% (1.02-1.05 over three inits): margin 1.01
    (ForwardTransformer, {"d_model": 16, "num_heads": 2, "predictor_layers": 1, "target_encoder": "ema",
                          "target": "next"}),
]


WEAK_MARGIN = {7: 1.01}  # the transformer's EMA/next ablation (see CASES)


def _case_id(case):
    cls, options = case
    return "-".join([cls.__name__, *(f"{k}={v}" for k, v in options.items() if k not in SMALL_CONV)])


@pytest.mark.parametrize("case", list(enumerate(CASES)), ids=[_case_id(c) for c in CASES])
def test_loss_falls_and_unseen_transitions_score_higher(data, case):
    i, (cls, options) = case
    torch.set_num_threads(1)  # tiny batches: more threads only contend for shared cores
    torch.manual_seed(0)
    seen, unseen, obs_space, action_space = data
    model = cls(obs_space, action_space, **options)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    losses = []
    for _ in range(60):
        loss, metrics = model.loss(seen)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(metrics["forward_loss"])
    assert losses[-1] < 0.6 * losses[0], losses[::10]
    r_seen, r_unseen = model.reward(seen), model.reward(unseen)
    assert r_seen.shape == (len(seen),) and not r_seen.requires_grad
    margin = 2.0 if i in DEFAULTS else WEAK_MARGIN.get(i, 1.05)
    assert r_unseen.mean() > margin * r_seen.mean(), (r_seen.mean(), r_unseen.mean())


def test_delta_target_predicts_no_change_before_training(data):
    """A zero-initialised delta head predicts s' = s: a no-op transition costs (almost) nothing."""
    seen, _, obs_space, action_space = data
    still = TransitionBatch(seen.obs, seen.action, seen.obs, seen.obs_input, seen.obs_input)
    for cls in (ForwardConv, ForwardTransformer):
        delta = cls(obs_space, action_space, target="delta")
        full = cls(obs_space, action_space, target="next")
        assert delta.reward(still).max() < 0.1 * full.reward(still).min()


def test_transformer_targets_ignore_the_broadcast_direction(data):
    """A turn changes only the direction planes, which every cell carries: the target
    encoder must not see them (its targets are the cells' content, as the conv models'), or
    a turn would move the target of every cell."""
    seen, _, obs_space, action_space = data
    model = ForwardTransformer(obs_space, action_space, d_model=16, num_heads=2)
    turned = seen.next_obs.clone()
    turned[..., 3] = (turned[..., 3] + 1) % 4
    planes = onehot_planes_batched(seen.next_obs)
    planes_turned = onehot_planes_batched(turned)
    assert not torch.equal(planes, planes_turned)
    with torch.no_grad():
        torch.testing.assert_close(model.target_encoder(model._content(planes)),
                                   model.target_encoder(model._content(planes_turned)))
        assert not torch.allclose(model.online(planes), model.online(planes_turned))  # the predictor's input keeps it


def test_random_features_and_random_target_encoder_are_frozen(data):
    seen, _, obs_space, action_space = data
    conv = ForwardConv(obs_space, action_space, features="random")
    transformer = ForwardTransformer(obs_space, action_space, target_encoder="random")
    assert not any(p.requires_grad for p in conv.features.parameters())
    assert not any(p.requires_grad for p in transformer.target_encoder.parameters())
    assert any(p.requires_grad for p in transformer.online.parameters())


def test_ema_target_encoder_follows_the_online_encoder(data):
    seen, _, obs_space, action_space = data
    model = ForwardTransformer(obs_space, action_space, target_encoder="ema", ema_decay=0.5)
    with torch.no_grad():
        for p in model.online.parameters():
            p.add_(1.0)
    before = [p.clone() for p in model.target_encoder.parameters()]
    model.loss(seen)
    for b, t, o in zip(before, model.target_encoder.parameters(), model.online.parameters()):
        torch.testing.assert_close(t, 0.5 * b + 0.5 * o)


@pytest.mark.parametrize("num_heads", [1, 2, 4])
def test_transformer_stacks_run_as_torch_runs_them(num_heads):
    """run_layers (attention without MultiheadAttention's copies) computes the torch stack's
    output on the same parameters, in training and in eval mode (torch's fast path)."""
    from curiosity.intrinsic.forward_transformer import _layers, run_layers

    torch.manual_seed(0)
    stack = _layers(16, num_heads, 2)
    x = torch.randn(5, 10, 16, requires_grad=True)
    torch.testing.assert_close(run_layers(stack, x), stack(x))
    grads = torch.autograd.grad(run_layers(stack, x).pow(2).sum(), [x, *stack.parameters()])
    expected = torch.autograd.grad(stack(x).pow(2).sum(), [x, *stack.parameters()])
    for got, want in zip(grads, expected):
        torch.testing.assert_close(got, want)
    stack.eval()
    with torch.no_grad():
        torch.testing.assert_close(run_layers(stack, x), stack(x))
