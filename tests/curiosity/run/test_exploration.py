"""Exploration metrics: per-episode cells, cumulative (x, y, dir) states, visitation maps."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from curiosity.run.exploration import ExplorationTracker
from curiosity.trainer import Trainer


def _arr(*values):
    return np.array(values)


def test_cells_per_episode_counts_distinct_cells_including_start_and_final():
    t = ExplorationTracker(num_envs=2, width=5, height=5)
    t.start(_arr(1, 3), _arr(1, 3), _arr(0, 0))
    no = np.zeros(2, dtype=bool)
    assert t.step(_arr(2, 3), _arr(1, 3), _arr(0, 1), no, _arr(2, 3), _arr(1, 3), _arr(0, 1)) == []
    assert t.step(_arr(1, 3), _arr(1, 3), _arr(0, 2), no, _arr(1, 3), _arr(1, 3), _arr(0, 2)) == []
    # env 0 ends on a new cell (2, 2) and restarts at (4, 4); env 1 has only turned in place
    ended = t.step(_arr(2, 3), _arr(2, 3), _arr(1, 3), _arr(True, False), _arr(4, 3), _arr(4, 3), _arr(3, 3))
    assert ended == [3]  # (1,1), (2,1), (2,2): revisits and turns do not add cells
    ended = t.step(_arr(4, 3), _arr(4, 3), _arr(3, 0), _arr(True, True), _arr(1, 1), _arr(1, 1), _arr(0, 0))
    assert ended == [1, 1]  # env 0's new episode never left its reset cell; env 1 never moved


def test_distinct_states_count_directions_and_accumulate_over_envs_and_episodes():
    t = ExplorationTracker(num_envs=2, width=5, height=5)
    t.start(_arr(1, 1), _arr(1, 1), _arr(0, 0))  # both envs in the same state: 1 distinct
    assert t.distinct_states == 1
    t.step(_arr(1, 2), _arr(1, 2), _arr(1, 0), _arr(True, False), _arr(1, 2), _arr(1, 2), _arr(0, 0))
    # (1,1,1) new, (2,2,0) new; env 0's reset pose (1,1,0) was already seen
    assert t.distinct_states == 3
    assert t.states_seen[1, 1, 1] and t.states_seen[2, 2, 0]


def test_visits_count_every_occupied_step_per_cell():
    t = ExplorationTracker(num_envs=1, width=4, height=3)
    t.start(_arr(1), _arr(1), _arr(0))
    for _ in range(3):
        t.step(_arr(2), _arr(1), _arr(0), _arr(False), _arr(2), _arr(1), _arr(0))
    t.step(_arr(2), _arr(2), _arr(0), _arr(True), _arr(1), _arr(1), _arr(0))
    expected = np.zeros((4, 3), dtype=np.int64)
    expected[1, 1] = 2  # start + reset
    expected[2, 1] = 3
    expected[2, 2] = 1
    np.testing.assert_array_equal(t.visits, expected)


def test_state_dict_round_trip():
    t = ExplorationTracker(num_envs=1, width=4, height=4)
    t.start(_arr(1), _arr(2), _arr(3))
    u = ExplorationTracker(num_envs=1, width=4, height=4)
    u.load_state_dict(t.state_dict())
    assert u.distinct_states == 1 and u.visits[1, 2] == 1 and u.episode_cells[0, 1, 2]


def test_restart_episodes_forgets_partial_episodes_but_keeps_totals():
    t = ExplorationTracker(num_envs=2, width=5, height=5)
    t.start(_arr(1, 1), _arr(1, 2), _arr(0, 0))
    t.step(_arr(2, 2), _arr(1, 2), _arr(0, 0), np.zeros(2, bool), _arr(2, 2), _arr(1, 2), _arr(0, 0))
    visits, states = t.visits.sum(), t.distinct_states
    t.restart_episodes(_arr(3, 3), _arr(3, 3), _arr(1, 1))
    assert t.episode_cells.sum(axis=(1, 2)).tolist() == [1, 1]
    assert t.episode_cells[:, 3, 3].all()
    assert t.visits.sum() == visits + 2 and t.distinct_states == states + 1


def test_trainer_logs_metrics_and_saves_visitation_maps(tiny_cfg, tmp_path):
    cfg = tiny_cfg("method=none", "total_frames=384", "logger.visitation_every=2")
    trainer = Trainer(cfg, tmp_path)
    try:
        row = trainer.train()
    finally:
        trainer.close()
    frames = 3 * 4 * 32
    maps = sorted((tmp_path / "visitation").glob("visits_frames*.npy"))
    assert [m.name for m in maps] == ["visits_frames0000000256.npy", "visits_frames0000000384.npy"]
    final = np.load(maps[-1])
    assert final.shape == (trainer.envs.summary.grid_width, trainer.envs.summary.grid_height)
    # one count per env step, plus each episode's start (4 initial + one per ended episode)
    metrics = pd.read_csv(tmp_path / "metrics.csv")
    assert final.sum() == frames + 4 + int(metrics["charts/episodes"].sum())
    assert (np.load(maps[0]) <= final).all()
    assert metrics["explore/distinct_states_total"].is_monotonic_increasing
    # the (x, y) cells of the distinct (x, y, dir) states are exactly the visited cells
    np.testing.assert_array_equal(trainer.explore.states_seen.any(axis=2), final > 0)
    assert row["explore/distinct_states_total"] >= int((final > 0).sum())
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["last_metrics"]["explore/distinct_states_total"] == trainer.explore.distinct_states


def test_obs_norm_warmup_does_not_shift_the_run_or_its_exploration_metrics(tiny_cfg, tmp_path):
    """Random warm-up steps for RND's statistics are not training frames: the run starts from
    the same reset as a run without them, and the tracker holds only the reset poses."""
    plain = Trainer(tiny_cfg("method=rnd", "method.obs_norm_init_steps=0", "total_frames=128"), tmp_path / "a")
    warm = Trainer(tiny_cfg("method=rnd", "method.obs_norm_init_steps=6", "total_frames=128"), tmp_path / "b")
    try:
        np.testing.assert_array_equal(warm.obs, plain.obs)
        assert warm.obs_norm.rms.count > 1  # the warm-up did feed the statistics
        np.testing.assert_array_equal(warm.explore.visits, plain.explore.visits)
        assert warm.explore.visits.sum() == 4
        assert warm.explore.episode_cells.sum() == 4
    finally:
        plain.close()
        warm.close()
