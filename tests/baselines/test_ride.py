"""RIDE (issue 17): the embedding change divided by sqrt of the episodic count, by hand,
resets only at that env's episode starts, RIDE's loss weights, memory in the state_dict (bitwise resume: tests/project/test_method_contract.py)."""


import pytest
import torch

from baselines.icm import ICM
from baselines.ride import RIDE

PHI = [[0, 0], [0, 0], [3, 4], [3, 0]]  # phi(state v), by hand: |phi2 - phi1| = 5, |phi2 - phi3| = 4


def ride_with_table(spaces, lookup, num_envs):
    m = RIDE(*spaces, num_envs=num_envs)
    m.encoder = lookup(PHI)
    return m


def test_impact_divided_by_the_episodic_count_resets_only_for_that_env(
        grid_spaces, state_lookup, make_rollout):
    m = ride_with_table(grid_spaces, state_lookup, num_envs=2)
    # env 0: 1->2 (5/1), 2->3 (3 vs (3,4): 4/1), 3->2 (4/sqrt(2)), restart: 1->2 (5/1)
    # env 1: 1->2, 2->1, 1->2, 2->1 in one episode: 5, 5, 5/sqrt(2), 5/sqrt(2)
    r = m.score_rollout(make_rollout(
        next_states=[[2, 2], [3, 1], [2, 2], [2, 1]],
        obs_states=[[1, 1], [2, 2], [3, 1], [1, 2]],
        starts=[[True, True], [False, False], [False, False], [True, False]]))
    s2 = 2 ** -0.5
    torch.testing.assert_close(r, torch.tensor([[5.0, 5.0], [4.0, 5.0], [4 * s2, 5 * s2], [5.0, 5 * s2]]))


def test_invalid_rows_score_zero_and_are_not_counted(grid_spaces, state_lookup, make_rollout):
    m = ride_with_table(grid_spaces, state_lookup, num_envs=1)
    r = m.score_rollout(make_rollout([[2], [2], [2]], [[True], [False], [False]],
                                     valid=[[True], [False], [True]]))
    torch.testing.assert_close(r, torch.tensor([[5.0], [0.0], [5 * 2 ** -0.5]]))


def test_stateless_reward_is_the_impact(grid_spaces, state_lookup, make_rollout):
    m = ride_with_table(grid_spaces, state_lookup, num_envs=1)
    assert m.reward(make_rollout([[3]], [[True]], obs_states=[[2]]).transitions()).item() == 4.0


def test_reuses_icm_and_weighs_the_losses_as_ride_code(spaces, toy):
    torch.manual_seed(0)
    m = RIDE(*spaces, forward_coef=10.0, inverse_coef=0.1)
    assert isinstance(m, ICM)
    batch = toy(16, seed=0)
    loss, metrics = m.loss(batch)
    phi_next, pred, logits = m._heads(batch)
    forward = (pred - phi_next).pow(2).sum(dim=1).sqrt().mean()
    inverse = torch.nn.functional.cross_entropy(logits, batch.action)
    assert loss.item() == pytest.approx((10 * forward + 0.1 * inverse).item(), rel=1e-5)
    assert metrics["ride_forward_loss"] == pytest.approx(forward.item(), rel=1e-5)


def test_count_memory_is_in_the_state_dict(grid_spaces, state_lookup, make_rollout):
    m = ride_with_table(grid_spaces, state_lookup, num_envs=1)
    m.score_rollout(make_rollout([[2]], [[True]]))
    fresh = ride_with_table(grid_spaces, state_lookup, num_envs=1)
    fresh.load_state_dict(m.state_dict())
    assert fresh.score_rollout(make_rollout([[2]], [[False]])).item() == pytest.approx(5 * 2 ** -0.5)


def test_bad_options_are_one_line_errors(grid_spaces):
    with pytest.raises(ValueError, match="method.module.forward_coef=-1"):
        RIDE(*grid_spaces, forward_coef=-1)
