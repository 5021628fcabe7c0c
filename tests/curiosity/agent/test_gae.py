"""GAE: hand-computed values, truncation vs termination, invalid rows, non-episodic streams."""

import torch

from curiosity.agent import compute_gae, continuing_successor_values


def col(*xs):
    return torch.tensor(xs, dtype=torch.float32).unsqueeze(1)  # (T, 1)


def test_matches_hand_computation():
    r, v, nv = col(1.0, 0.0, 2.0), col(0.5, 0.2, 0.1), col(0.2, 0.1, 0.3)
    zeros = col(0, 0, 0)
    g, lam = 0.9, 0.8
    adv, ret = compute_gae(r, v, nv, zeros, zeros, col(1, 1, 1), g, lam)
    d = [1 + g * 0.2 - 0.5, 0 + g * 0.1 - 0.2, 2 + g * 0.3 - 0.1]
    a2 = d[2]
    a1 = d[1] + g * lam * a2
    a0 = d[0] + g * lam * a1
    torch.testing.assert_close(adv, col(a0, a1, a2))
    torch.testing.assert_close(ret, adv + v)


def test_truncation_bootstraps_but_termination_does_not():
    r, v, nv = col(0.0), col(0.0), col(5.0)
    valid = col(1)
    trunc_adv, _ = compute_gae(r, v, nv, terminated=col(0), dones=col(1), valid=valid, gamma=0.9, lam=1.0)
    term_adv, _ = compute_gae(r, v, nv, terminated=col(1), dones=col(1), valid=valid, gamma=0.9, lam=1.0)
    assert trunc_adv.item() == 0.9 * 5.0
    assert term_adv.item() == 0.0


def test_done_cuts_the_lambda_chain():
    r, v, nv = col(0.0, 1.0), col(0.0, 0.0), col(0.0, 0.0)
    adv, _ = compute_gae(r, v, nv, col(1, 0), col(1, 0), col(1, 1), 0.9, 0.9)
    assert adv[0].item() == 0.0  # the next episode's reward does not leak back
    adv_ne, _ = compute_gae(r, v, nv, col(0, 0), col(0, 0), col(1, 1), 0.9, 0.9)
    assert abs(adv_ne[0].item() - 0.81) < 1e-6  # non-episodic stream: it does


def test_invalid_rows_have_zero_advantage_and_are_skipped():
    # an invalid row (envpool's autoreset step) always follows a done row: the episodic
    # stream is cut by that done, so nothing of the new episode flows back across it
    r, v, nv = col(0.0, 7.0, 1.0), col(0.0, 0.0, 0.0), col(0.0, 0.0, 0.0)
    adv, _ = compute_gae(r, v, nv, col(1, 0, 0), col(1, 0, 0), col(1, 0, 1), 0.9, 0.9)
    assert adv[1].item() == 0.0
    assert adv[0].item() == 0.0
    assert adv[2].item() == 1.0
    # a continuing stream skips the invalid row: row 2's advantage reaches row 0 directly
    zeros = col(0, 0, 0)
    adv, _ = compute_gae(r, v, nv, zeros, zeros, col(1, 0, 1), 0.9, 0.9)
    assert adv[1].item() == 0.0  # the invalid row's own reward (7) never counts
    assert abs(adv[0].item() - 0.81) < 1e-6


def test_continuing_stream_follows_rnd_at_episode_ends_by_hand():
    """RND's definition: at a done row the successor is the next row's observation (the
    reset obs of the new episode) and the lambda-chain continues; after the last row the
    successor is the obs to act on next."""
    g, lam = 0.9, 0.5
    r = col(1.0, 2.0, 0.5)
    v = col(0.3, 0.6, 0.2)  # V(obs_t); row 1 ended an episode, row 2 is the reset obs
    last = torch.tensor([0.4])  # V(obs to act on next)
    nv = continuing_successor_values(v, col(1, 1, 1), last)
    torch.testing.assert_close(nv, col(0.6, 0.2, 0.4))  # never V(final obs) at the done row
    zeros = col(0, 0, 0)
    adv, ret = compute_gae(r, v, nv, zeros, zeros, col(1, 1, 1), g, lam)
    d2 = 0.5 + g * 0.4 - 0.2
    d1 = 2.0 + g * 0.2 - 0.6
    d0 = 1.0 + g * 0.6 - 0.3
    a2 = d2
    a1 = d1 + g * lam * a2
    a0 = d0 + g * lam * a1
    torch.testing.assert_close(adv, col(a0, a1, a2))
    torch.testing.assert_close(ret, adv + v)


def test_continuing_stream_is_the_same_on_both_backends():
    """envpool inserts an invalid autoreset row after each done row (its obs is the final
    obs, its action ignored); the python backend resets on the same step. The valid rows'
    advantages must not differ."""
    g, lam = 0.99, 0.95
    last = torch.tensor([0.7])
    # python backend: 4 transitions, episode ends at row 1
    r_py, v_py = col(0.1, 0.9, 0.3, 0.2), col(0.5, 0.4, 0.8, 0.6)
    valid_py = col(1, 1, 1, 1)
    nv_py = continuing_successor_values(v_py, valid_py, last)
    z = torch.zeros_like(r_py)
    adv_py, _ = compute_gae(r_py, v_py, nv_py, z, z, valid_py, g, lam)
    # envpool: the same transitions with the invalid row (reward 0, V(final obs)=5) after row 1
    r_ep, v_ep = col(0.1, 0.9, 0.0, 0.3, 0.2), col(0.5, 0.4, 5.0, 0.8, 0.6)
    valid_ep = col(1, 1, 0, 1, 1)
    nv_ep = continuing_successor_values(v_ep, valid_ep, last)
    z = torch.zeros_like(r_ep)
    adv_ep, _ = compute_gae(r_ep, v_ep, nv_ep, z, z, valid_ep, g, lam)
    keep = valid_ep.squeeze(1).bool()
    torch.testing.assert_close(adv_ep[keep], adv_py)
    assert adv_ep[2].item() == 0.0


def test_runs_per_env_column():
    r = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    z = torch.zeros(2, 2)
    adv, _ = compute_gae(r, z, z, z, z, torch.ones(2, 2), 0.5, 1.0)
    torch.testing.assert_close(adv, torch.tensor([[1.0, 0.5], [0.0, 1.0]]))
