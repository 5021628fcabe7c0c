"""Our statistics agree with rliable's (Agarwal et al. 2021) on the same data.

rliable comes with the `stats` extra, which `make setup` always installs, so these tests import it
outright and FAIL (never skip) when it is missing or broken: the report's promise "our statistics
equal rliable's" is checked on every change. rliable.library needs `arch<8` (rliable's own bound;
arch 8 rejects rliable's `random_state`), and arch 7 does not import under pandas 3, hence the
`pandas<3` bound in the `stats` extra of pyproject.toml.
"""

from __future__ import annotations

import numpy as np
import pytest
from rliable import library
from rliable import metrics as rl_metrics

from analysis import stats


@pytest.fixture
def score_matrix():
    rng = np.random.default_rng(3)
    return rng.random((7, 3)), rng.random((5, 3))  # (runs x tasks) for X and Y


def test_aggregates_match_rliable(score_matrix):
    x, _ = score_matrix
    tasks = list(x.T)
    assert stats.iqm(np.concatenate(tasks)) == pytest.approx(rl_metrics.aggregate_iqm(x))
    assert np.mean(np.concatenate(tasks)) == pytest.approx(rl_metrics.aggregate_mean(x))


def test_probability_of_improvement_matches_rliable(score_matrix):
    x, y = score_matrix
    ours = stats.probability_of_improvement_tasks(list(x.T), list(y.T))
    assert ours == pytest.approx(rl_metrics.probability_of_improvement(x, y))
    assert stats.probability_of_improvement_tasks([x[:, 0]], [x[:, 0]]) == rl_metrics.probability_of_improvement(
        x[:, :1], x[:, :1])


def test_performance_profile_matches_rliable(score_matrix):
    x, _ = score_matrix
    taus = np.linspace(0, 1, 11)
    theirs = library.score_distributions(x, taus)
    assert np.allclose(stats.performance_profile(list(x.T), taus), theirs)


def test_stratified_bootstrap_ci_close_to_rliable(score_matrix):
    x, _ = score_matrix
    _, theirs = library.get_interval_estimates({"x": x}, lambda s: np.array([rl_metrics.aggregate_iqm(s)]),
                                               reps=4000, random_state=np.random.RandomState(0))
    low, high = stats.bootstrap_ci(list(x.T), stats.iqm, n_resamples=4000)
    assert low == pytest.approx(theirs["x"][0, 0], abs=0.03)
    assert high == pytest.approx(theirs["x"][1, 0], abs=0.03)
