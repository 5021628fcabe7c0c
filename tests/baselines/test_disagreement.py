"""Ensemble disagreement: variance of bootstrapped forward models as the reward."""

from __future__ import annotations

import pytest
import torch

from baselines.disagreement import Disagreement

SMALL = {"channels": 8, "hidden": 128, "embedding_dim": 32}


def test_reward_shrinks_on_trained_transitions_and_stays_high_on_novel_ones(spaces, familiar, novel, fit_module):
    torch.manual_seed(0)
    ens = Disagreement(*spaces, **SMALL)
    before = ens.reward(familiar).mean()
    fit_module(ens, familiar, steps=200, lr=3e-3)
    trained, unseen = ens.reward(familiar).mean(), ens.reward(novel).mean()
    assert trained < 0.2 * before
    assert unseen > 3 * trained


def test_reward_is_the_variance_across_members(spaces, familiar):
    ens = Disagreement(*spaces, **SMALL)
    with torch.no_grad():
        preds = ens.predictions(familiar)
    assert preds.shape == (5, len(familiar), SMALL["embedding_dim"])
    mean = preds.mean(dim=0, keepdim=True)
    torch.testing.assert_close(ens.reward(familiar), (preds - mean).pow(2).mean(dim=(0, 2)))


def test_members_differ_at_init_and_after_training_on_the_same_batches(spaces, familiar, fit_module):
    torch.manual_seed(0)
    ens = Disagreement(*spaces, **SMALL)
    weights = [layer.weight for layer in ens.members if hasattr(layer, "weight")]
    for w in weights:  # every member has its own initialisation
        assert all(not torch.equal(w[0], w[k]) for k in range(1, ens.ensemble_size))
    fit_module(ens, familiar, steps=5)
    with torch.no_grad():
        preds = ens.predictions(familiar)
    spread = (preds - preds.mean(dim=0)).abs().amax(dim=(1, 2))
    assert (spread > 1e-4).all()  # no member collapsed onto the ensemble mean


def test_each_member_draws_its_own_bootstrap_resample(spaces):
    torch.manual_seed(0)
    ens = Disagreement(*spaces, **SMALL)
    w = ens.bootstrap_weights(200, "cpu")
    assert w.shape == (5, 200)
    torch.testing.assert_close(w.sum(dim=1), torch.ones(5))  # B draws per member
    counts = w * 200
    assert torch.equal(counts, counts.round())  # whole draws, with replacement
    left_out = (counts == 0).float().mean(dim=1)  # ~e^-1 of the batch per member
    assert ((left_out > 0.25) & (left_out < 0.5)).all()
    assert all(not torch.equal(w[0], w[k]) for k in range(1, 5))
    plain = Disagreement(*spaces, **SMALL, bootstrap=False).bootstrap_weights(10, "cpu")
    torch.testing.assert_close(plain, torch.full((5, 10), 0.1))


def test_embedding_is_fixed(spaces, familiar, fit_module):
    ens = Disagreement(*spaces, **SMALL)
    frozen = {k: v.clone() for k, v in ens.embedding.state_dict().items()}
    fit_module(ens, familiar, steps=3)
    assert all(torch.equal(v, frozen[k]) for k, v in ens.embedding.state_dict().items())


def test_ensemble_of_one_is_refused(spaces):
    with pytest.raises(ValueError, match="ensemble_size=1"):
        Disagreement(*spaces, ensemble_size=1)
