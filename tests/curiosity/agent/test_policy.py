"""The policies the trainer acts with, behind one step interface (issue 28)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from omegaconf import OmegaConf
from torch.distributions import Categorical

from baselines.random_action import RandomActionPolicy as ReExported
from curiosity.agent import ActorCritic
from curiosity.agent.policy import ActorCriticPolicy, RolloutPolicy, make_policy
from curiosity.agent.random_policy import RandomActionPolicy

TRAINER = Path(__file__).resolve().parents[3] / "curiosity" / "trainer.py"


def _obs(n: int) -> torch.Tensor:
    return torch.randint(0, 3, (n, 7, 7, 4), generator=torch.Generator().manual_seed(1), dtype=torch.uint8)


def test_the_random_policy_draws_what_it_always_drew_values_zero_state_unchanged():
    policy = RandomActionPolicy(7)
    assert ReExported is RandomActionPolicy  # baselines.random_action keeps the name importable
    assert isinstance(policy, RolloutPolicy) and not policy.learns and policy.network is None
    state = torch.zeros(5, 0)
    torch.manual_seed(0)
    action, logprob, v_ext, v_int, new_state = policy.step(_obs(5), state, np.ones(5, dtype=bool))
    torch.manual_seed(0)
    expected, expected_logprob = policy.act(5, "cpu")  # the draw from torch's global RNG
    assert torch.equal(action, expected) and torch.equal(logprob, expected_logprob)
    assert not v_ext.any() and not v_int.any() and new_state is state


def test_the_actor_critic_policy_samples_its_logits_with_the_global_rng():
    torch.manual_seed(0)
    net = ActorCritic((7, 7, 4), 7, 8, 16)
    policy = ActorCriticPolicy(net)
    assert isinstance(policy, RolloutPolicy) and policy.learns and policy.network is net
    obs = _obs(6)
    torch.manual_seed(3)
    action, logprob, v_ext, v_int, _ = policy.step(obs, net.initial_state(6), np.zeros(6, dtype=bool))
    torch.manual_seed(3)
    logits, ref_ext, ref_int = net(obs)
    dist = Categorical(logits=logits)
    ref_action = dist.sample()
    assert torch.equal(action, ref_action)
    torch.testing.assert_close(logprob, dist.log_prob(ref_action))
    torch.testing.assert_close(v_ext, ref_ext)
    torch.testing.assert_close(v_int, ref_int)


def test_a_recurrent_policy_carries_its_state_and_resets_it_at_episode_starts():
    torch.manual_seed(0)
    net = ActorCritic((7, 7, 4), 7, 8, 16, recurrent="gru")
    policy = ActorCriticPolicy(net)
    obs = _obs(2)
    _, _, _, _, state = policy.step(obs, net.initial_state(2), np.array([True, True]))
    assert state.abs().sum() > 0
    *_, fresh = policy.step(obs, state, np.array([True, False]))  # env 0 begins an episode
    *_, reference = policy.step(obs, net.initial_state(2), np.array([True, True]))
    torch.testing.assert_close(fresh[0], reference[0])
    assert not torch.allclose(fresh[1], reference[1])


def test_make_policy_and_the_trainer_reads_no_method_flag():
    net = ActorCritic((7, 7, 4), 7, 8, 16)
    assert isinstance(make_policy(OmegaConf.create({"acts_randomly": True}), net, 7), RandomActionPolicy)
    assert make_policy(OmegaConf.create({"acts_randomly": False}), net, 7).network is net
    source = TRAINER.read_text()
    assert "acts_randomly" not in source and "random_policy" not in source  # it asks its policy
