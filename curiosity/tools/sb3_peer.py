"""The peer in ``make bench``: Stable-Baselines3's PPO on the same task, envs and steps per
rollout, at the reference 4 epochs x 4 minibatches (``curiosity.tools.bench.PEER_EPOCHS``),
timed in the same run, so the SPS ratio holds on any machine.

SB3's PPO gets MiniGrid's image observation (``ImgObsWrapper``: the 7x7x3 egocentric grid)
and the small CNN from MiniGrid's documentation (three 2x2 convs, 16/32/64 channels, a
128-unit linear layer), in a ``DummyVecEnv`` (all envs in this process, as this project's
sync Python backend). Its minibatch size is set so that it takes the same number of
minibatches per epoch as asked (SB3's default of 64 rows would take 32 per epoch instead of 4
and make the peer look slower than it is). Needs the ``sb3`` extra.
"""

from __future__ import annotations

import time

import gymnasium as gym
import torch
from torch import nn


def sb3_available() -> bool:
    try:
        import stable_baselines3  # noqa: F401
    except ImportError:
        return False
    return True


def minigrid_cnn_extractor():
    """MiniGrid's documented features extractor for SB3 (built lazily: SB3 is optional)."""
    from stable_baselines3.common.torch_layers import BaseFeaturesExtractor

    class MinigridFeaturesExtractor(BaseFeaturesExtractor):
        def __init__(self, observation_space: gym.Space, features_dim: int = 128):
            super().__init__(observation_space, features_dim)
            channels = observation_space.shape[0]
            self.cnn = nn.Sequential(
                nn.Conv2d(channels, 16, (2, 2)), nn.ReLU(),
                nn.Conv2d(16, 32, (2, 2)), nn.ReLU(),
                nn.Conv2d(32, 64, (2, 2)), nn.ReLU(),
                nn.Flatten(),
            )
            with torch.no_grad():
                flat = self.cnn(torch.as_tensor(observation_space.sample()[None]).float()).shape[1]
            self.linear = nn.Sequential(nn.Linear(flat, features_dim), nn.ReLU())

        def forward(self, observations: torch.Tensor) -> torch.Tensor:
            return self.linear(self.cnn(observations))

    return MinigridFeaturesExtractor


def sb3_ppo_sps(env_id: str, num_envs: int, num_steps: int, update_epochs: int,
                num_minibatches: int, iterations: int, seed: int = 0) -> dict:
    """Frames per wall second (and per CPU second) of SB3's PPO over ``iterations`` rollouts
    + updates, after one untimed warm-up iteration."""
    from minigrid.wrappers import ImgObsWrapper
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    from curiosity.envs import register_extra_envs

    register_extra_envs()
    venv = make_vec_env(lambda: ImgObsWrapper(gym.make(env_id)), n_envs=num_envs, seed=seed)
    batch = num_envs * num_steps
    model = PPO("CnnPolicy", venv, n_steps=num_steps, n_epochs=update_epochs,
                batch_size=max(1, batch // num_minibatches), seed=seed, device="cpu", verbose=0,
                policy_kwargs={"features_extractor_class": minigrid_cnn_extractor(),
                               "features_extractor_kwargs": {"features_dim": 128},
                               "normalize_images": False})
    model.learn(total_timesteps=batch)  # warm-up: first rollout and update
    start, cpu_start = time.perf_counter(), time.process_time()
    model.learn(total_timesteps=iterations * batch, reset_num_timesteps=False)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    venv.close()
    frames = iterations * batch
    return {"sps": frames / wall, "iteration_s": wall / iterations, "cpu_sps": frames / max(cpu, 1e-9),
            "cpu_share": cpu / wall}
