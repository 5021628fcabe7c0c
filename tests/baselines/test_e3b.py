"""E3B (issue 17): the elliptical bonus by hand (u^T u / lambda, then Sherman-Morrison), resets
only at that env's episode starts, C^-1 in the state_dict (bitwise resume: tests/project/test_method_contract.py)."""


import pytest
import torch

from baselines.e3b import E3B

RIDGE = 0.1


def e3b_with_table(spaces, lookup, table, num_envs):
    """An E3B whose phi is a fixed table: phi(state v) = table[v]."""
    m = E3B(*spaces, ridge=RIDGE, embedding_dim=len(table[0]), num_envs=num_envs)
    m.encoder = lookup(table)
    return m


def test_repeated_embedding_falls_as_sherman_morrison_says_and_resets_per_env(
        grid_spaces, state_lookup, make_rollout):
    # phi(state 2) = (1, 2): a = u^T u / lambda = 50; seen k times: a / (1 + (k - 1) a)
    m = e3b_with_table(grid_spaces, state_lookup, [[0, 0], [0, 0], [1, 2]], num_envs=2)
    # env 0 sees state 2 twice, restarts at t=2 and sees it again; env 1 never restarts
    r = m.score_rollout(make_rollout([[2, 2], [2, 2], [2, 2], [2, 2]],
                                     [[True, True], [False, False], [True, False], [False, False]]))
    a = 5 / RIDGE
    expected = torch.tensor([[a, a], [a / (1 + a), a / (1 + a)], [a, a / (1 + 2 * a)],
                             [a / (1 + a), a / (1 + 3 * a)]])
    torch.testing.assert_close(r, expected)


def test_orthogonal_embeddings_do_not_discount_each_other(grid_spaces, state_lookup, make_rollout):
    m = e3b_with_table(grid_spaces, state_lookup, [[0, 0], [0, 0], [1, 0], [0, 1]], num_envs=1)
    r = m.score_rollout(make_rollout([[2], [3], [2]], [[True], [False], [False]]))
    torch.testing.assert_close(r, torch.tensor([[10.0], [10.0], [10.0 / 11.0]]))


def test_bonus_matches_the_explicit_inverse_covariance(grid_spaces, make_rollout):
    torch.manual_seed(0)
    m = E3B(*grid_spaces, ridge=RIDGE, embedding_dim=8, num_envs=1)
    states = [[2], [3], [2], [5], [4], [3]]
    rollout = make_rollout(states, [[True]] + [[False]] * 5)
    r = m.score_rollout(rollout)
    phi = m.embed(rollout.transitions().next_obs_input)
    cov = RIDGE * torch.eye(8)
    for t in range(len(states)):
        u = phi[t]
        assert r[t, 0].item() == pytest.approx((u @ torch.linalg.inv(cov) @ u).item(), rel=1e-4)
        cov = cov + torch.outer(u, u)


def test_invalid_rows_score_zero_and_leave_the_memory(grid_spaces, state_lookup, make_rollout):
    m = e3b_with_table(grid_spaces, state_lookup, [[0, 0], [0, 0], [1, 2]], num_envs=1)
    r = m.score_rollout(make_rollout([[2], [2], [2]], [[True], [False], [False]],
                                     valid=[[True], [False], [True]]))
    a = 5 / RIDGE
    torch.testing.assert_close(r, torch.tensor([[a], [0.0], [a / (1 + a)]]))


def test_stateless_reward_is_a_first_visit(grid_spaces, state_lookup, make_rollout):
    m = e3b_with_table(grid_spaces, state_lookup, [[0, 0], [0, 0], [1, 2]], num_envs=1)
    assert m.reward(make_rollout([[2]], [[True]]).transitions()).item() == pytest.approx(50.0)


def test_covariance_is_a_buffer_in_the_state_dict(grid_spaces, state_lookup, make_rollout):
    table = [[0, 0], [0, 0], [1, 2]]
    m = e3b_with_table(grid_spaces, state_lookup, table, num_envs=2)
    assert m.state_dict()["cov_inverse"].shape == (2, 2, 2)
    m.score_rollout(make_rollout([[2, 2]], [[True, True]]))
    fresh = e3b_with_table(grid_spaces, state_lookup, table, num_envs=2)
    fresh.load_state_dict(m.state_dict())
    assert fresh.score_rollout(make_rollout([[2, 2]], [[False, False]]))[0, 0].item() == \
        pytest.approx(50 / 51)


def test_loss_trains_the_inverse_model(spaces, toy, fit_module):
    torch.manual_seed(0)
    m = E3B(*spaces, num_envs=1)
    batch = toy(64, seed=0)
    before, _ = m.loss(batch)
    fit_module(m, batch, steps=30)
    after, metrics = m.loss(batch)
    assert after.item() < 0.5 * before.item() and metrics["e3b_inverse_accuracy"] > 0.5


def test_bad_options_are_one_line_errors(grid_spaces):
    with pytest.raises(ValueError, match="method.module.ridge=0"):
        E3B(*grid_spaces, ridge=0)
    with pytest.raises(ValueError, match="method.module.embedding_dim=0"):
        E3B(*grid_spaces, embedding_dim=0)
