"""NovelD (issue 17): the clipped novelty difference with alpha, the first-visit gate that
resets only at that env's episode starts, and the gate's memory in the state_dict (bitwise resume: tests/project/test_method_contract.py)."""


import pytest
import torch

from baselines.noveld import NovelD

NOVELTY = torch.tensor([0.0, 1.0, 3.0, 1.0, 4.0])  # novelty of state v, by hand


def noveld_with_table(spaces, lookup, num_envs, alpha=0.5):
    """A NovelD whose novelty is a fixed table: novelty(state v) = NOVELTY[v]."""
    m = NovelD(*spaces, alpha=alpha, num_envs=num_envs)
    table = lookup(NOVELTY[:, None])
    m.novelty = lambda x: table(x)[:, 0]
    return m


def test_first_visit_gate_and_alpha_by_hand_reset_only_for_that_env(
        grid_spaces, state_lookup, make_rollout):
    m = noveld_with_table(grid_spaces, state_lookup, num_envs=2)
    # env 0: 1->2 (3 - 0.5*1 = 2.5), 2->3 (1 - 0.5*3 < 0: 0), 3->2 (2.5 but 2nd visit of 2: 0),
    # then its episode restarts: 1->2 scores 2.5 again. env 1: 1->4 (3.5), 4->2 (3 - 2 = 1),
    # 2->4 (second visit: 0), 4->2 (second visit: 0): env 0's restart does not reset env 1
    r = m.score_rollout(make_rollout(
        next_states=[[2, 4], [3, 2], [2, 4], [2, 2]],
        obs_states=[[1, 1], [2, 4], [3, 2], [1, 4]],
        starts=[[True, True], [False, False], [False, False], [True, False]]))
    torch.testing.assert_close(r, torch.tensor([[2.5, 3.5], [0.0, 1.0], [0.0, 0.0], [2.5, 0.0]]))


def test_alpha_weighs_the_predecessor(grid_spaces, state_lookup, make_rollout):
    m = noveld_with_table(grid_spaces, state_lookup, num_envs=1, alpha=1.0)
    r = m.score_rollout(make_rollout([[4]], [[True]], obs_states=[[2]]))
    assert r.item() == pytest.approx(1.0)  # 4 - 1.0 * 3


def test_invalid_rows_score_zero_and_are_not_counted(grid_spaces, state_lookup, make_rollout):
    m = noveld_with_table(grid_spaces, state_lookup, num_envs=1)
    r = m.score_rollout(make_rollout([[2], [2]], [[True], [False]], valid=[[False], [True]]))
    torch.testing.assert_close(r, torch.tensor([[0.0], [2.5]]))


def test_novelty_is_the_l2_norm_of_rnd_error_and_training_lowers_it(spaces, toy, fit_module):
    torch.manual_seed(0)
    m = NovelD(*spaces)
    batch = toy(64, seed=0)
    x = batch.next_obs_input
    expected = (m.predictor(x) - m.target(x)).pow(2).sum(dim=1).sqrt()
    torch.testing.assert_close(m.novelty(x), expected)
    before = m.novelty(x).mean().item()
    fit_module(m, batch, steps=30)
    assert m.novelty(x).mean().item() < 0.5 * before
    assert not any(p.requires_grad for p in m.target.parameters())


def test_gate_memory_is_in_the_state_dict(grid_spaces, state_lookup, make_rollout):
    m = noveld_with_table(grid_spaces, state_lookup, num_envs=1)
    m.score_rollout(make_rollout([[2]], [[True]]))
    fresh = noveld_with_table(grid_spaces, state_lookup, num_envs=1)
    fresh.load_state_dict(m.state_dict())
    assert fresh.score_rollout(make_rollout([[2]], [[False]])).item() == 0.0  # second visit


def test_bad_alpha_is_a_one_line_error(grid_spaces):
    with pytest.raises(ValueError, match="method.module.alpha=-1"):
        NovelD(*grid_spaces, alpha=-1)


def test_each_state_novelty_is_reused_from_the_row_before_and_equals_the_stateless_reward(grid_spaces):
    """rollout_gain computes a state's novelty once (as the row before's successor where the
    grids match): per row it is ``reward`` of that transition, up to float rounding."""
    from curiosity.intrinsic.runtime import grid_rollout

    torch.manual_seed(0)
    m = NovelD(*grid_spaces).eval()
    g = torch.Generator().manual_seed(1)
    t, n = 6, 3
    states = torch.randint(0, 3, (t + 1, n, 3, 3, 4), dtype=torch.uint8, generator=g)
    obs, nxt = states[:-1].clone(), states[1:].clone()
    starts = torch.zeros(t, n, dtype=torch.bool)
    starts[3, 1] = True  # an episode begins: its first state is not the row before's successor
    obs[3, 1] = torch.randint(0, 3, (3, 3, 4), dtype=torch.uint8, generator=g)
    valid = torch.ones(t, n, dtype=torch.bool)
    valid[2, 2] = False  # an invalid row: the row after computes its state afresh
    rollout = grid_rollout(obs, torch.zeros(t, n, dtype=torch.long), nxt, starts, valid)
    calls = []
    novelty = m.novelty
    m.novelty = lambda x: calls.append(len(x)) or novelty(x)
    gain = m.rollout_gain(rollout)
    # successors of the 17 valid rows, then the states not reused: t=0 (3), the start, the row after the invalid one
    assert calls == [17, 5]
    stateless = m.reward(rollout.transitions()).view(t, n) * valid
    torch.testing.assert_close(gain, stateless)
