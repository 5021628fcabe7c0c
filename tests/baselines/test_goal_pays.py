"""Reaching the goal always pays for the episodic methods (issue 26).

On a scripted rollout (``curiosity.tools.bonus_probe.goal_forgone``: the same path to the cell
above the goal, then env 0 steps onto it and env 1 wanders on), the intrinsic return given up
by ending the episode at the goal, in the units of the combined advantage, must be smaller
than the extrinsic reward the goal earns, for every episodic method with its own config, on
both the egocentric view and the neutral window. Measured through the real trainer: the
method's scoring, the reward normalizer and GAE on its intrinsic stream.
"""

import pytest

from curiosity.tools.bonus_probe import goal_forgone

EPISODIC = ("count", "ride", "noveld", "e3b")


@pytest.mark.parametrize("view", ["egocentric", "window9"])
@pytest.mark.parametrize("method", EPISODIC)
def test_ending_at_the_goal_gives_up_less_than_it_earns(method, view):
    out = goal_forgone(method, view)
    assert out["g_int_wander"] > 0  # the wandering env was paid: the probe measures something
    assert out["forgone"] < out["goal_reward"], out


def test_an_episodic_stream_makes_the_goal_cost_ride_reward():
    """The defect the port fixes: with the return cut at the goal, ride's bonus outweighs it."""
    out = goal_forgone("ride", "egocentric", ["method.int_stream=episodic", "method.reward_norm=false"])
    assert out["forgone"] > out["goal_reward"], out
