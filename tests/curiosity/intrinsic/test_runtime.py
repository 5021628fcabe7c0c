"""IntrinsicRuntime: the one owner of a method at run time (issue 28)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from curiosity.agent.ppo import minibatches
from curiosity.intrinsic.library import compose_method, make_env, predictor_space
from curiosity.intrinsic.runtime import STATE_KEYS, IntrinsicRuntime, grid_rollout
from curiosity.trainer import Trainer

RND = ["module.channels=8", "module.embedding_dim=16", "module.predictor_hidden=16"]
ENV = "MiniGrid-DoorKey-5x5-v0"


def runtime(name, *overrides, num_envs=2):
    method = compose_method(name, [*overrides])
    env = make_env(ENV, method)
    return IntrinsicRuntime(method, predictor_space(env, method), env.action_space, num_envs), env


def random_rollout(env, steps: int, num_envs: int, seed: int = 0):
    """(T, N) grids of uniform-random steps of ``num_envs`` copies of ``env``'s task."""
    rng = np.random.default_rng(seed)
    cur, act, nxt = [], [], []
    for n in range(num_envs):
        obs, _ = env.reset(seed=seed + n)
        rows = []
        for _ in range(steps):
            a = int(rng.integers(env.action_space.n))
            nobs, _, term, trunc, _ = env.step(a)
            rows.append((obs, a, nobs))
            obs = env.reset()[0] if term or trunc else nobs
        cur.append([r[0] for r in rows])
        act.append([r[1] for r in rows])
        nxt.append([r[2] for r in rows])
    t = lambda x: torch.as_tensor(np.swapaxes(np.asarray(x), 0, 1))  # noqa: E731
    return t(cur), t(act), t(nxt)


def test_the_trainer_checkpoint_holds_the_runtimes_pieces_and_loads_into_one(tiny_cfg, tmp_path):
    cfg = tiny_cfg("method=rnd", "total_frames=256", *(f"method.{o}" for o in RND))
    trainer = Trainer(cfg, tmp_path)
    try:
        trainer.train(max_iterations=1)
        state = trainer.checkpoint_state()
        pred_space, act_space = trainer.envs.single_observation_space, trainer.envs.single_action_space
    finally:
        trainer.close()
    assert set(STATE_KEYS) <= set(state) and set(trainer.runtime.state_dict()) == set(STATE_KEYS)
    torch.manual_seed(123)  # another init: the state must overwrite it
    other = IntrinsicRuntime(cfg.method, pred_space, act_space, cfg.env.num_envs)
    other.load_state_dict(state)
    for key, value in other.module.state_dict().items():
        torch.testing.assert_close(value, state["intrinsic"][key])
    torch.testing.assert_close(other.obs_norm.rms.mean, trainer.runtime.obs_norm.rms.mean)
    torch.testing.assert_close(other.rew_norm.returns, trainer.runtime.rew_norm.returns)
    assert other.optimizer.state_dict()["state"].keys() == state["int_optimizer"]["state"].keys()


def test_train_draws_rand_then_randperm_per_epoch_and_takes_exactly_num_minibatches():
    """The schedule the trainer's metrics depend on: per epoch one ``rand`` over the valid rows,
    one ``randperm`` of the kept ones, then ``minibatches``; one loss call per minibatch."""
    rt, env = runtime("forward_conv", "module.hidden_channels=8", "predictor_full_obs=false")
    cur, act, nxt = random_rollout(env, 9, 2)
    valid = torch.ones(9, 2, dtype=torch.bool)
    valid[4, 1] = False  # an invalid row never trains
    seen, real = [], rt.module.loss

    def spy(batch):
        seen.append(batch.obs.clone())
        return real(batch)

    rt.module.loss = spy
    torch.manual_seed(7)
    metrics = rt.train(grid_rollout(cur, act, nxt, valid=valid), num_minibatches=3)
    torch.manual_seed(7)
    valid_idx = torch.nonzero(valid.reshape(-1), as_tuple=True)[0]
    expected = []
    for _ in range(rt.method.update_epochs):
        keep = valid_idx[torch.rand(len(valid_idx)) < rt.method.update_proportion]
        expected += list(minibatches(keep[torch.randperm(len(keep))], 3))
    flat = cur.reshape(-1, *cur.shape[2:])
    assert len(seen) == len(expected) and all(torch.equal(s, flat[i]) for s, i in zip(seen, expected))
    assert {"losses/intrinsic", "grad_norm/intrinsic"} <= set(metrics)
    assert all(k.startswith(("intrinsic/", "losses/", "grad_norm/")) for k in metrics)


def test_score_goes_through_score_rollout_and_the_reward_normalizer():
    rt, env = runtime("count")
    cur, act, nxt = random_rollout(env, 6, 2)
    rt.module.reward = lambda batch: pytest.fail("scored through the stateless reward")  # noqa: ARG005
    start = torch.zeros(6, 2, dtype=torch.bool)
    start[0] = True
    rollout = grid_rollout(cur, act, nxt, episode_start=start)
    raw, normalized = rt.score(rollout)
    assert raw.shape == (6, 2) and (raw <= 1).all() and (raw > 0).all()
    std = float(rt.rew_norm.rms.std)
    torch.testing.assert_close(normalized, raw / (std + 1e-8))


def test_score_episode_uses_fresh_memory_and_leaves_the_runs_as_it_was():
    rt, env = runtime("count", "module.mode=lifelong")
    cur, act, nxt = random_rollout(env, 5, 2)
    rt.score(grid_rollout(cur, act, nxt))  # the run's lifelong counts
    before = rt.module.get_extra_state()
    episode = rt.score_episode(cur[:, 0], act[:, 0], nxt[:, 0])
    assert (episode < 1).any()  # the run's counts were read: some successors were seen before
    assert rt.module.get_extra_state() == before  # and left as they were


def test_a_method_without_a_module_scores_zero_and_keeps_its_normalizers(tiny_cfg):
    cfg = tiny_cfg("method=none")
    env = make_env(ENV)
    rt = IntrinsicRuntime(cfg.method, env.observation_space, env.action_space, 2)
    cur, act, nxt = random_rollout(env, 3, 2)
    before = {k: v.clone() for k, v in rt.rew_norm.state_dict().items()}
    raw, normalized = rt.score(grid_rollout(cur, act, nxt))
    rt.observe(nxt)
    assert not raw.any() and not normalized.any() and rt.train(grid_rollout(cur, act, nxt), 2) == {}
    assert all(torch.equal(v, rt.rew_norm.state_dict()[k]) for k, v in before.items())
    assert float(rt.obs_norm.rms.count) == pytest.approx(1e-4)  # nothing observed
    assert rt.state_dict()["intrinsic"] is None and rt.state_dict()["int_optimizer"] is None
