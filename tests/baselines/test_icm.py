"""ICM: inverse-dynamics features, forward-model error in feature space as the reward."""

from __future__ import annotations

import pytest
import torch

from baselines.icm import ICM

SMALL = {"channels": 16, "feature_channels": 32, "hidden": 64}


def test_inverse_head_learns_the_action_on_a_toy_set(spaces, toy):
    torch.manual_seed(0)
    icm = ICM(*spaces)  # the default architecture
    train = toy(512, seed=0)
    held_out = toy(256, seed=2)
    opt = torch.optim.Adam(icm.parameters(), lr=1e-3)
    for _ in range(150):
        loss, metrics = icm.loss(train.index(torch.randint(len(train), (64,))))
        opt.zero_grad()
        loss.backward()
        opt.step()
    accuracy = (icm.predict_action(held_out) == held_out.action).float().mean()
    assert accuracy > 0.9  # chance is 1/7
    assert metrics["icm_inverse_loss"] < 0.5


def test_reward_shrinks_on_trained_transitions_and_stays_high_on_novel_ones(spaces, familiar, novel, fit_module):
    torch.manual_seed(0)
    icm = ICM(*spaces, **SMALL)
    before = icm.reward(familiar).mean()
    fit_module(icm, familiar, steps=200)
    trained, unseen = icm.reward(familiar).mean(), icm.reward(novel).mean()
    assert trained < 0.1 * before
    assert unseen > 4 * trained


def test_reward_is_eta_times_half_squared_feature_error(spaces, familiar):
    torch.manual_seed(0)
    icm = ICM(*spaces, **SMALL, eta=0.2)
    with torch.no_grad():
        phi_next, pred, _ = icm._heads(familiar)
    expected = 0.2 * 0.5 * (pred - phi_next).pow(2).sum(dim=1)
    torch.testing.assert_close(icm.reward(familiar), expected)
    icm.eta = 0.1
    torch.testing.assert_close(icm.reward(familiar), expected / 2)


@pytest.mark.parametrize("beta, forward_w, inverse_w", [(0.2, 0.2, 0.8), (1.0, 1.0, 0.0), (0.0, 0.0, 1.0)])
def test_loss_mixes_inverse_and_forward_by_beta(spaces, familiar, beta, forward_w, inverse_w):
    icm = ICM(*spaces, **SMALL, beta=beta)
    loss, m = icm.loss(familiar)
    expected = forward_w * float(m["icm_forward_loss"]) + inverse_w * float(m["icm_inverse_loss"])
    assert loss.item() == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("kwargs, key", [({"eta": 0.0}, "eta=0.0"), ({"beta": 1.5}, "beta=1.5"),
                                         ({"num_convs": 0}, "num_convs=0")])
def test_bad_kwargs_name_the_key(spaces, kwargs, key):
    with pytest.raises(ValueError, match=key):
        ICM(*spaces, **kwargs)
