"""The intrinsic rewards as a library: build by name, score, normalize, train, save and load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from curiosity.intrinsic import IntrinsicRewardNormalizer
from curiosity.intrinsic.library import (
    IntrinsicReward,
    compose_method,
    make_env,
    method_names,
    predictor_grids,
    predictor_space,
)

ENV = "MiniGrid-DoorKey-5x5-v0"
CONF = Path(__file__).resolve().parents[3] / "conf" / "method"


def rollout(env, method, steps: int, seed: int = 0):
    """(current grids, actions, successor grids) of uniform-random steps, episodes restarting."""
    rng = np.random.default_rng(seed)
    obs, info = env.reset(seed=seed)
    cur, act, nxt = [], [], []
    for _ in range(steps):
        a = int(rng.integers(env.action_space.n))
        cur.append(predictor_grids(obs, info, method, "current"))
        obs, _, term, trunc, info = env.step(a)
        nxt.append(predictor_grids(obs, info, method, "successor"))
        act.append(a)
        if term or trunc:
            obs, info = env.reset()
    return np.stack(cur), np.array(act), np.stack(nxt)


def build(name, *overrides, num_envs=1):
    method = compose_method(name, overrides)
    env = make_env(ENV, method)
    return IntrinsicReward(method, predictor_space(env, method), env.action_space, num_envs), env


def test_names_are_the_method_files_and_overrides_apply():
    assert method_names() == sorted(p.stem for p in CONF.glob("*.yaml"))
    cfg = compose_method("rnd", ["lr=3e-4", "method.module.channels=8"])
    assert cfg.lr == pytest.approx(3e-4) and cfg.module.channels == 8 and cfg.name == "rnd"
    assert cfg.max_grad_norm == 1.0  # the schema's default where the yaml is silent


@pytest.mark.parametrize("name, overrides, message", [
    ("rndd", [], "method='rndd': unknown"),
    ("rnd", ["no_such_key=1"], "no_such_key"),
    ("rnd", ["update_proportion=2.0"], "method.update_proportion=2.0"),
    ("rnd", ["lr"], "must be key=value"),
])
def test_bad_names_and_overrides_are_refused_in_one_line(name, overrides, message):
    with pytest.raises(ValueError, match=message) as err:
        compose_method(name, overrides)
    assert "\n" not in str(err.value)


def test_methods_without_an_intrinsic_reward_are_refused():
    env = make_env(ENV)
    with pytest.raises(ValueError, match="method=none: has no intrinsic reward"):
        IntrinsicReward.from_name("none", env.observation_space, env.action_space)


def test_full_grid_methods_get_the_predictor_window_and_egocentric_ones_the_view():
    forward, env = build("forward_conv", "module.hidden_channels=8")
    assert forward.obs_space.shape == (9, 9, 4)  # predictor_crop=9 around the agent
    ego, env_ego = build("forward_conv", "predictor_full_obs=false", "module.hidden_channels=8")
    assert ego.obs_space.shape == env_ego.observation_space.shape == (7, 7, 4)
    with pytest.raises(ValueError, match="make_env"):
        predictor_space(make_env(ENV), compose_method("forward_conv"))


def test_score_updates_input_statistics_and_checks_shapes():
    rnd, env = build("rnd")
    cur, act, nxt = rollout(env, rnd.method, 32)
    count = float(rnd.obs_norm.rms.count)
    raw = rnd.score(cur, act, nxt)
    assert raw.shape == (32,) and torch.isfinite(raw).all() and (raw > 0).all()
    assert float(rnd.obs_norm.rms.count) == pytest.approx(count + 32)
    rnd.score(cur, act, nxt, update_obs_stats=False)
    assert float(rnd.obs_norm.rms.count) == pytest.approx(count + 32)
    with pytest.raises(ValueError, match=r"next_obs has shape \(32, 9, 9, 4\)"):
        rnd.score(cur, act, np.zeros((32, 9, 9, 4), np.uint8))
    with pytest.raises(ValueError, match="must match"):
        rnd.score(cur, act[:5], nxt)


def test_normalize_is_the_trainers_per_env_return_filter():
    rnd, _ = build("rnd", num_envs=2)
    raw = torch.rand(6, 2)
    reference = IntrinsicRewardNormalizer(2, rnd.method.gamma_int)
    torch.testing.assert_close(rnd.normalize(raw), reference(raw, torch.ones_like(raw)))
    torch.testing.assert_close(rnd.normalize(raw[0]), reference(raw[:1], torch.ones(1, 2))[0])
    with pytest.raises(ValueError, match=r"expected \(T, 2\)"):
        rnd.normalize(torch.rand(6, 3))


def test_training_lowers_the_reward_of_seen_transitions_with_the_methods_lr():
    torch.manual_seed(0)
    rnd, env = build("rnd")
    assert rnd.optimizer.param_groups[0]["lr"] == pytest.approx(1e-4)
    cur, act, nxt = rollout(env, rnd.method, 64)
    before = rnd.score(cur, act, nxt, update_obs_stats=False).mean()
    first = rnd.train_step(cur, act, nxt)
    assert first["grad_norm"] > 0 and {"loss", "rnd_forward_loss"} <= set(first)
    for _ in range(40):
        rnd.train(cur, act, nxt, num_minibatches=2)
    after = rnd.score(cur, act, nxt, update_obs_stats=False).mean()
    assert after < 0.7 * before


def test_train_step_clips_the_gradient_at_the_methods_max_grad_norm():
    rnd, env = build("rnd", "max_grad_norm=0.001")
    cur, act, nxt = rollout(env, rnd.method, 32)
    out = rnd.train_step(cur, act, nxt)
    applied = torch.sqrt(sum((p.grad ** 2).sum() for p in rnd.trainable_parameters()))
    assert out["grad_norm"] > 0.01  # the raw gradient was far larger ...
    assert applied <= 0.001 * (1 + 1e-4)  # ... than the one the optimizer stepped on


def test_save_and_load_restore_scores_statistics_and_optimizer(tmp_path):
    fwd, env = build("forward_conv", "module.hidden_channels=8", num_envs=2)
    cur, act, nxt = rollout(env, fwd.method, 48)
    fwd.train(cur, act, nxt)
    fwd.normalize(fwd.score(cur[:2], act[:2], nxt[:2]))
    path = fwd.save(tmp_path / "m" / "forward.pt")
    loaded = IntrinsicReward.load(path)
    assert loaded.method == fwd.method and loaded.num_envs == 2 and loaded.obs_space == fwd.obs_space
    torch.testing.assert_close(loaded.score(cur, act, nxt, update_obs_stats=False),
                               fwd.score(cur, act, nxt, update_obs_stats=False))
    torch.testing.assert_close(loaded.rew_norm.returns, fwd.rew_norm.returns)
    assert loaded.optimizer.state_dict()["state"].keys() == fwd.optimizer.state_dict()["state"].keys()
    torch.manual_seed(1)
    a = fwd.train_step(cur, act, nxt)
    torch.manual_seed(1)
    b = loaded.train_step(cur, act, nxt)
    assert a["loss"] == pytest.approx(b["loss"], rel=1e-5)


EPISODIC = ("count", "ride", "noveld", "e3b")
LEFT, RIGHT, FORWARD = 0, 1, 2


def scripted(env, method, actions, seed: int = 0):
    """(current grids, actions, successor grids) of ``actions`` from ``env.reset(seed)``."""
    obs, info = env.reset(seed=seed)
    cur, nxt = [], []
    for a in actions:
        cur.append(predictor_grids(obs, info, method, "current"))
        obs, _, _, _, info = env.step(a)
        nxt.append(predictor_grids(obs, info, method, "successor"))
    return np.stack(cur), np.asarray(actions), np.stack(nxt)


@pytest.mark.parametrize("name", EPISODIC)
def test_score_keeps_each_envs_episodic_memory(name):
    """Issue 28: ``score`` went through the stateless ``reward``, so the episodic methods lost
    their memory (a count paid 1 for every visit). Turning left, right and left again revisits
    the first successor: within the episode it pays less the second time, and a new episode
    (``episode_start``) pays it as a first visit again."""
    torch.manual_seed(0)
    fresh, env = build(name)
    cur, act, nxt = scripted(env, fresh.method, [LEFT, RIGHT, LEFT])
    raw = fresh.score(cur, act, nxt).numpy()
    assert raw[0] > 0 and raw[2] < raw[0], raw  # the revisit (step 2) pays less than the first visit
    again = fresh.score(cur[2:], act[2:], nxt[2:], episode_start=[True]).numpy()
    assert again[0] == pytest.approx(raw[0], rel=1e-5)  # a new episode: a first visit again


def test_score_takes_whole_steps_of_the_envs():
    count, env = build("count", num_envs=2)
    cur, act, nxt = scripted(env, count.method, [LEFT, RIGHT, LEFT, RIGHT])
    with pytest.raises(ValueError, match="a multiple of 2"):
        count.score(cur[:3], act[:3], nxt[:3])
    # two envs, two steps each (rows time-major), both reaching the same successor twice: one
    # memory per env, so each pays 1 then 1/sqrt(2) (a shared memory would count it 4 times)
    rows = [0, 0, 2, 2]
    raw = count.score(cur[rows], act[rows], nxt[rows]).numpy()
    assert raw == pytest.approx([1.0, 1.0, 2 ** -0.5, 2 ** -0.5])


@pytest.mark.parametrize("rows, steps", [(9, 4), (8, 4), (3, 3)])
def test_train_takes_exactly_num_minibatches_steps(rows, steps):
    """Issue 28: the library cut minibatches by ceiling size (9 rows in 4 minibatches gave 3
    steps); the trainer takes exactly ``num_minibatches`` (``curiosity.agent.ppo.minibatches``)."""
    rnd, env = build("rnd")
    assert rnd.method.update_proportion == 1.0 and rnd.method.update_epochs == 1
    cur, act, nxt = rollout(env, rnd.method, rows)
    sizes, real = [], rnd.module.loss

    def counting(batch):
        sizes.append(len(batch))
        return real(batch)

    rnd.module.loss = counting
    rnd.train(cur, act, nxt, num_minibatches=4)
    assert len(sizes) == steps and sum(sizes) == rows and max(sizes) - min(sizes) <= 1, sizes
