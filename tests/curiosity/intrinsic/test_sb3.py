"""Stable-Baselines3's PPO with a method's intrinsic reward (skips only without the sb3 extra)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("stable_baselines3")

from stable_baselines3 import PPO  # noqa: E402
from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor  # noqa: E402

from curiosity.intrinsic.library import IntrinsicReward, compose_method, make_env  # noqa: E402
from curiosity.intrinsic.sb3 import IntrinsicRewardVecEnv  # noqa: E402

ENV = "MiniGrid-DoorKey-5x5-v0"
N_ENVS, N_STEPS = 4, 32
SMALL = {"rnd": ["module.channels=8", "module.embedding_dim=16", "module.predictor_hidden=32"],
         "forward_conv": ["module.hidden_channels=8"]}


def wrapped(name, *overrides, **env_options):
    method = compose_method(name, [*SMALL[name], *overrides])
    venv = VecMonitor(DummyVecEnv([lambda: make_env(ENV, method, **env_options) for _ in range(N_ENVS)]))
    venv.seed(0)
    return IntrinsicRewardVecEnv(venv, method, train_every=N_STEPS, seed=0)


class ScoreSpy:
    """Records what the wrapper hands the method: (current grids, actions, successors)."""

    def __init__(self, intrinsic: IntrinsicReward):
        self.calls, self.score = [], intrinsic.score

    def __call__(self, obs, action, next_obs, update_obs_stats=True, episode_start=None):
        self.calls.append((np.array(obs), np.array(action), np.array(next_obs)))
        return self.score(obs, action, next_obs, update_obs_stats, episode_start)


@pytest.mark.parametrize("name", ["rnd", "forward_conv"])
def test_ppo_learns_with_the_intrinsic_reward_and_trains_the_method(name):
    torch.manual_seed(0)
    venv = wrapped(name)
    # forward_conv predicts a 9x9 window of the full grid (predictor_full_obs, predictor_crop)
    assert venv.intrinsic.obs_space.shape == ((9, 9, 4) if name == "forward_conv" else (7, 7, 4))
    before = [p.detach().clone() for p in venv.intrinsic.trainable_parameters()]
    model = PPO("MlpPolicy", venv, n_steps=N_STEPS, batch_size=64, n_epochs=1, seed=0,
                policy_kwargs={"normalize_images": False, "net_arch": [32]})
    model.learn(3 * N_STEPS * N_ENVS)
    assert model.num_timesteps == 3 * N_STEPS * N_ENVS
    assert venv.last_train_metrics["loss"] > 0
    after = venv.intrinsic.trainable_parameters()
    assert any(not torch.equal(a, b) for a, b in zip(before, after))  # the method trained
    # the rollout PPO learned from carries the intrinsic reward (DoorKey's own is ~always 0)
    rewards = model.rollout_buffer.rewards
    assert np.all(np.isfinite(rewards)) and np.count_nonzero(rewards) > 0.9 * rewards.size


def test_episode_ends_score_the_true_successor_not_the_reset(monkeypatch):
    venv = wrapped("rnd", "obs_norm_init_steps=0", max_episode_steps=3)
    spy = ScoreSpy(venv.intrinsic)
    monkeypatch.setattr(venv.intrinsic, "score", spy)
    obs = venv.reset()
    ended = 0
    for _ in range(4):
        venv.step_async(np.zeros(N_ENVS, dtype=np.int64))  # turn left: no episode ends early
        obs_next, rewards, dones, infos = venv.step_wait()
        cur, act, nxt = spy.calls[-1]
        assert np.array_equal(cur, obs)  # the grid the action was taken in
        for i in range(N_ENVS):
            expected = infos[i]["terminal_observation"] if dones[i] else obs_next[i]
            assert np.array_equal(nxt[i], expected)
            assert "intrinsic_reward" in infos[i]
        obs = obs_next
        ended += int(dones.sum())
    assert ended >= N_ENVS  # the time limit of 3 ended every env's episode at least once


def test_full_grid_methods_read_the_window_the_step_was_taken_in(monkeypatch):
    venv = wrapped("forward_conv", "obs_norm_init_steps=0", max_episode_steps=3)
    spy = ScoreSpy(venv.intrinsic)
    monkeypatch.setattr(venv.intrinsic, "score", spy)
    venv.reset()
    current = np.stack([r["full_grid"] for r in venv.venv.unwrapped.reset_infos])
    ended = 0
    for _ in range(4):
        venv.step_async(np.full(N_ENVS, 2))  # forward
        _, _, dones, infos = venv.step_wait()
        cur, _, nxt = spy.calls[-1]
        assert np.array_equal(cur, current)
        assert np.array_equal(nxt, np.stack([info["full_grid_succ"] for info in infos]))
        resets = venv.venv.unwrapped.reset_infos
        current = np.stack([resets[i]["full_grid"] if dones[i] else infos[i]["full_grid"]
                            for i in range(N_ENVS)])
        ended += int(dones.sum())
    assert ended >= N_ENVS  # the time limit of 3 ended every env's episode at least once


def test_mismatched_reward_streams_are_refused():
    method = compose_method("rnd", SMALL["rnd"])
    env = make_env(ENV, method)
    one = IntrinsicReward(method, env.observation_space, env.action_space, num_envs=1)
    venv = DummyVecEnv([lambda: make_env(ENV, method) for _ in range(2)])
    with pytest.raises(ValueError, match="1 reward streams, the VecEnv has 2 envs"):
        IntrinsicRewardVecEnv(venv, one, train_every=8)


@pytest.mark.parametrize("name", ["count", "ride", "noveld", "e3b"])
def test_the_wrapper_scores_with_per_env_episodic_memory(name):
    """Issue 28: the wrapper scored through the stateless ``reward``, so an episodic method
    paid a revisit within an episode as a first visit. Left, right, left revisits the first
    successor in every env: it pays less the second time; after the envs reset (time limit 3),
    the first step of the new episodes pays a first visit again (count: 1)."""
    torch.manual_seed(0)
    method = compose_method(name)
    venv = DummyVecEnv([lambda: make_env(ENV, method, max_episode_steps=3) for _ in range(N_ENVS)])
    venv.seed(0)
    venv = IntrinsicRewardVecEnv(venv, method, train_every=1000, seed=0)
    venv.reset()
    raw = []
    for action in (0, 1, 0, 0):  # left, right, left (the episodes end), left again
        venv.step_async(np.full(N_ENVS, action))
        _, _, dones, infos = venv.step_wait()
        raw.append([info["intrinsic_reward_raw"] for info in infos])
    raw = np.asarray(raw)
    assert (raw[0] > 0).all() and (raw[2] < raw[0]).all(), raw
    if name == "count":  # fresh memory in the new episodes: a first visit pays 1
        assert (raw[3] == 1.0).all(), raw
