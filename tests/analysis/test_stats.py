"""Statistics against hand-computed values, and against rliable on the same data."""

from __future__ import annotations

import numpy as np
import pytest

from analysis import stats


def test_iqm_trims_a_quarter_from_each_end():
    assert stats.iqm(np.arange(1, 9)) == pytest.approx(4.5)  # mean of 3, 4, 5, 6
    assert stats.iqm([100.0, 1.0, 2.0, 3.0, -100.0]) == pytest.approx(2.0)  # one trimmed each side
    assert stats.iqm([1.0, 2.0, 3.0]) == pytest.approx(2.0)  # 0.25 * 3 < 1: nothing to trim


def test_bootstrap_ci_of_a_constant_is_the_constant():
    assert stats.bootstrap_ci([np.full(5, 0.7)], stats.iqm) == (0.7, 0.7)
    assert stats.bootstrap_ci([np.full(3, 2.0), np.full(4, 2.0)]) == (2.0, 2.0)


def test_bootstrap_ci_brackets_the_estimate_within_the_data_range():
    x = np.array([0.1, 0.4, 0.5, 0.9, 0.2, 0.3])
    low, high = stats.bootstrap_ci([x], np.mean)
    assert x.min() <= low < x.mean() < high <= x.max()
    assert (low, high) == stats.bootstrap_ci([x], np.mean)  # fixed seed: reproducible


def test_bootstrap_ci_is_stratified_over_tasks():
    """Each task resampled on its own: two constant tasks give a zero-width interval even though
    pooling them unstratified would mix them in varying proportions."""
    low, high = stats.bootstrap_ci([np.zeros(3), np.ones(5)], np.mean)
    assert low == pytest.approx(5 / 8) and high == pytest.approx(5 / 8)


def test_bootstrap_ci_needs_two_runs():
    assert all(np.isnan(stats.bootstrap_ci([np.array([1.0])])))


def test_probability_of_improvement_hand_computed():
    assert stats.probability_of_improvement([5, 6, 7], [1, 2]) == 1.0
    assert stats.probability_of_improvement([1, 2], [5, 6, 7]) == 0.0
    assert stats.probability_of_improvement([1, 2, 3], [1, 2, 3]) == 0.5
    # pairs (2,1) (2,3) (2,4) (5,1) (5,3) (5,4): wins 1 + 3 = 4 of 6
    assert stats.probability_of_improvement([2, 5], [1, 3, 4]) == pytest.approx(4 / 6)
    # a tie counts one half: (2,2) -> 0.5, (3,2) -> 1
    assert stats.probability_of_improvement([2, 3], [2]) == pytest.approx(0.75)


def test_probability_of_improvement_ci_of_disjoint_samples_is_one():
    assert stats.probability_of_improvement_ci([np.array([5.0, 6, 7])], [np.array([1.0, 2])]) == (1.0, 1.0)
    low, high = stats.probability_of_improvement_ci([np.array([1.0, 3, 5])], [np.array([2.0, 4, 6])])
    assert 0.0 <= low < 4 / 9 < high <= 1.0


def test_probability_of_improvement_averages_tasks():
    p = stats.probability_of_improvement_tasks([[5, 6], [0, 0]], [[1, 2], [3, 4]])
    assert p == pytest.approx(0.5)


def test_summarize():
    s = stats.summarize([0.0, 0.5, 1.0, np.nan], solved=[False, True, True, None])
    assert s["n"] == 3 and s["mean"] == pytest.approx(0.5) and s["median"] == pytest.approx(0.5)
    assert s["std"] == pytest.approx(0.5) and s["worst"] == 0.0 and s["cv"] == pytest.approx(1.0)
    assert s["frac_solved"] == pytest.approx(2 / 3)


def test_performance_profile_hand_computed():
    taus = np.array([0.25, 0.75])
    assert np.allclose(stats.performance_profile([[0.0, 0.5, 1.0]], taus), [2 / 3, 1 / 3])
    # averaged over tasks: task A [1, 1] -> 1, 1; task B [0, 0.5] -> 0.5, 0
    assert np.allclose(stats.performance_profile([[1.0, 1.0], [0.0, 0.5]], taus), [0.75, 0.5])
    low, high = stats.performance_profile_ci([[0.0, 0.5, 1.0, 0.2]], taus)
    assert np.all(low <= stats.performance_profile([[0.0, 0.5, 1.0, 0.2]], taus))
    assert np.all(high >= stats.performance_profile([[0.0, 0.5, 1.0, 0.2]], taus))


def test_bootstrap_ci_curve_pointwise():
    values = np.array([[0.0, 1.0, 2.0], [0.0, 3.0, np.nan], [0.0, 2.0, 4.0]])
    low, high = stats.bootstrap_ci_curve(values, np.mean)
    assert low[0] == high[0] == 0.0  # constant column
    assert 1.0 <= low[1] < 2.0 < high[1] <= 3.0
    assert np.isnan(low[2]) and np.isnan(high[2])  # a seed missing: no interval


def test_normalize():
    assert np.allclose(stats.normalize([0.2, 0.6], 0.2, 1.0), [0.0, 0.5])
    assert np.allclose(stats.normalize([3.0, 3.0], 3.0, 3.0), [0.0, 0.0])
