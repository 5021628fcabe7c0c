"""The offline noisy-TV probe trains with the trainer's schedule and scores TV vs other steps."""

from __future__ import annotations

import csv
import math

import pytest

from curiosity.config import ConfigError
from curiosity.tools.tv_probe import parse_settings, run

TINY = ["+experiment=noisy_tv", "env.noisy_tv=remote", "env.num_envs=2", "agent.num_steps=16",
        "agent.num_minibatches=2"]


def test_parse_settings():
    assert parse_settings("1e-4x1,1e-3x4") == [(1e-4, 1), (1e-3, 4)]
    for bad in ("1e-4", "ax2", "1e-3x0", "-1x2"):
        with pytest.raises(ConfigError, match="--settings="):
            parse_settings(bad)


def test_probe_scores_tv_and_other_transitions(tmp_path):
    rows = run(["disagreement", "forward_conv"], [(1e-3, 1), (1e-3, 2)], TINY, tmp_path,
               iterations=3, score_at={1}, heldout=256, seed=0)
    assert {(r["method"], r["epochs"]) for r in rows} == {(m, e) for m in ("disagreement", "forward_conv")
                                                          for e in (1, 2)}
    # scored after iteration 1 and after the last full iteration of the stream
    assert all(r["iteration"] in (1, 2, 3) for r in rows) and any(r["iteration"] == 1 for r in rows)
    for r in rows:
        assert 0 < r["tv_fraction"] < 1  # random actions: about 1/7 on the remote
        assert r["tv_reward"] > 0 and r["other_reward"] > 0
        assert math.isclose(r["ratio"], r["tv_reward"] / r["other_reward"])
        assert 0 < r["tv_share"] < 1
    with open(tmp_path / "tv_probe.csv") as f:
        assert len(list(csv.DictReader(f))) == len(rows)


def test_probe_needs_the_remote_tv(tmp_path):
    with pytest.raises(ConfigError, match="env.noisy_tv=none"):
        run(["disagreement"], [(1e-3, 1)], ["env.num_envs=2", "agent.num_steps=16"], tmp_path,
            iterations=1, score_at=set(), heldout=64, seed=0)


def test_probe_takes_exactly_num_minibatches_steps(monkeypatch):
    """Issue 28: the probe cut minibatches by ceiling size (9 rows in 4 minibatches gave 3
    steps); the trainer takes exactly ``agent.num_minibatches`` (``curiosity.agent.ppo.minibatches``)."""
    from baselines.disagreement import Disagreement
    from curiosity.tools.diagnose import collect, compose_method
    from curiosity.tools.tv_probe import train_and_score

    cfg = compose_method("disagreement", ["+experiment=noisy_tv", "env.noisy_tv=remote", "env.num_envs=1",
                                          "agent.num_steps=9", "agent.num_minibatches=3"])
    # 9 rows in 4 minibatches: what a ragged draw gives (update_proportion < 1, envpool's rows)
    cfg.agent.num_minibatches = 4
    assert cfg.method.update_proportion == 1.0
    stream = collect(cfg, "random", 9, None, seed=0)  # one iteration of 1 env x 9 steps
    held = collect(cfg, "random", 64, None, seed=1)
    sizes, real = [], Disagreement.loss

    def counting(self, batch):
        sizes.append(len(batch))
        return real(self, batch)

    monkeypatch.setattr(Disagreement, "loss", counting)
    rows = train_and_score(cfg, stream, held, lr=1e-3, epochs=1, score_at=set(), seed=0)
    assert [r["iteration"] for r in rows] == [1]
    assert sizes == [3, 2, 2, 2]  # 4 steps of near-equal size, as the trainer's update
