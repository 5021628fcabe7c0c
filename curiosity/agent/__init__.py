"""Actor-critic, the policies the trainer acts with, rollout storage, GAE and the PPO update."""

from curiosity.agent.gae import compute_gae, continuing_successor_values
from curiosity.agent.network import ActorCritic
from curiosity.agent.policy import ActorCriticPolicy, RolloutPolicy, make_policy
from curiosity.agent.ppo import (
    explained_variance,
    grad_norm,
    grad_norm_tensor,
    ppo_update,
    ppo_update_recurrent,
)
from curiosity.agent.random_policy import RandomActionPolicy
from curiosity.agent.storage import RolloutStorage

__all__ = ["ActorCritic", "ActorCriticPolicy", "RandomActionPolicy", "RolloutPolicy", "RolloutStorage",
           "make_policy", "compute_gae", "continuing_successor_values", "explained_variance", "grad_norm", "grad_norm_tensor", "ppo_update", "ppo_update_recurrent"]
