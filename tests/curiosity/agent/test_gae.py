"""GAE: hand-computed values, truncation vs termination, invalid rows, non-episodic streams."""

import torch

from curiosity.agent import compute_gae


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


def test_invalid_rows_have_zero_advantage_and_cut_the_chain():
    r, v, nv = col(0.0, 7.0, 1.0), col(0.0, 0.0, 0.0), col(0.0, 0.0, 0.0)
    zeros = col(0, 0, 0)
    adv, _ = compute_gae(r, v, nv, zeros, zeros, col(1, 0, 1), 0.9, 0.9)
    assert adv[1].item() == 0.0
    assert adv[0].item() == 0.0  # nothing flows through the invalid row
    assert adv[2].item() == 1.0


def test_runs_per_env_column():
    r = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    z = torch.zeros(2, 2)
    adv, _ = compute_gae(r, z, z, z, z, torch.ones(2, 2), 0.5, 1.0)
    torch.testing.assert_close(adv, torch.tensor([[1.0, 0.5], [0.0, 1.0]]))
