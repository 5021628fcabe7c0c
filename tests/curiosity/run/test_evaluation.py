"""Held-out evaluation: fixed training levels, disjoint eval levels, eval.csv apart from training."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

from curiosity.config import ConfigError, validate
from curiosity.envs import make_single_env
from curiosity.envs.levels import HELDOUT_START, FixedLevels, heldout_level_seeds, train_level_seeds
from curiosity.run.evaluation import EVAL_FILE, EvalLog, HeldOutEvaluator
from curiosity.trainer import Trainer

FORWARD, DONE = 2, 6  # MiniGrid actions


def _layout(env) -> bytes:
    base = env.unwrapped
    return base.grid.encode().tobytes() + bytes([*base.agent_pos, base.agent_dir])


def _rows(path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


class StubAgent:
    """Fixed logits for every observation (the evaluator only reads the first output)."""

    def __init__(self, logits):
        self.logits = torch.as_tensor(logits, dtype=torch.float32)

    def __call__(self, obs):
        return self.logits.expand(len(obs), -1), None, None


def test_fixed_levels_only_lay_out_training_levels(compose):
    cfg = compose(["env=doorkey_6x6", "env.train_levels=3"])
    env = make_single_env(cfg.env)
    seen = {}
    env.reset(seed=7)
    for _ in range(30):  # autoresets pass no seed: the level is drawn from the training set
        _, info = env.reset()
        level = info["level_seed"]
        assert level in (0, 1, 2)
        seen.setdefault(level, _layout(env))
        assert seen[level] == _layout(env), "one level seed must always give one layout"
    assert len(seen) == 3
    plain = make_single_env(compose(["env=doorkey_6x6"]).env)
    for level, layout in seen.items():
        plain.reset(seed=level)
        assert _layout(plain) == layout  # the pinned layout is exactly the task's layout for that seed


def test_fixed_levels_reset_seed_repeats_the_level_sequence(compose):
    env = make_single_env(compose(["env=doorkey_6x6", "env.train_levels=50"]).env)

    def sequence(seed):
        env.reset(seed=seed)
        return [env.reset()[1]["level_seed"] for _ in range(10)]

    assert sequence(3) == sequence(3)
    assert sequence(3) != sequence(4)


def test_heldout_levels_are_disjoint_from_every_training_set():
    heldout = heldout_level_seeds(1000)
    assert min(heldout) == HELDOUT_START and len(set(heldout)) == 1000
    assert list(train_level_seeds(5)) == [0, 1, 2, 3, 4]
    assert train_level_seeds(HELDOUT_START)[-1] < heldout[0]  # the largest allowed set
    with pytest.raises(ValueError, match="train_levels"):
        train_level_seeds(HELDOUT_START + 1)
    with pytest.raises(ValueError):
        FixedLevels(make_single_env(_doorkey_env_cfg()), range(0))


def _doorkey_env_cfg():
    from omegaconf import OmegaConf

    from curiosity.config import EnvConfig

    return OmegaConf.structured(EnvConfig(id="MiniGrid-DoorKey-5x5-v0"))


@pytest.mark.parametrize("override, key", [
    ("eval.policy=argmax", "eval.policy"),
    ("eval.episodes=0", "eval.episodes"),
    ("eval.every=-1", "eval.every"),
    ("env.train_levels=-2", "env.train_levels"),
    (f"env.train_levels={HELDOUT_START}", "env.train_levels"),
])
def test_bad_eval_and_level_values_are_refused(tiny_cfg, override, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        validate(tiny_cfg(override))


def test_greedy_ignores_the_rng_and_sampled_is_seeded(tiny_cfg, tmp_path):
    cfg = tiny_cfg("env=doorkey_5x5", "env.max_episode_steps=12", "eval.episodes=4", "eval.policy=greedy")
    greedy = HeldOutEvaluator(cfg, tmp_path, torch.device("cpu"))
    done_agent = StubAgent([0, 0, 0, 0, 0, 0, 1.0])  # argmax = done: a no-op, episodes time out
    out = greedy.play(done_agent, iteration=1)
    assert out["length"].tolist() == [12] * 4 and out["success"].sum() == 0
    forward_agent = StubAgent([0, 0, 1.0, 0, 0, 0, 0])
    assert np.array_equal(greedy.play(forward_agent, 1)["length"], greedy.play(forward_agent, 2)["length"])

    sampled = HeldOutEvaluator(tiny_cfg("env=doorkey_5x5", "env.max_episode_steps=12", "eval.episodes=4"),
                               tmp_path, torch.device("cpu"))
    again = [sampled.play(None, 5)["return"] for _ in range(2)]
    assert np.array_equal(*again)  # same iteration, same actions
    torch.manual_seed(0)
    before = torch.rand(1)
    torch.manual_seed(0)
    sampled.play(forward_agent, 5)
    assert torch.equal(torch.rand(1), before), "evaluation must not consume the global torch RNG"


def test_eval_csv_is_written_apart_from_metrics(tiny_cfg, tmp_path):
    cfg = tiny_cfg("env=doorkey_5x5", "total_frames=640", "eval.every=2", "eval.episodes=3",
                   "env.max_episode_steps=16")
    trainer = Trainer(cfg, tmp_path)
    try:
        trainer.train()
    finally:
        trainer.close()
    rows = _rows(tmp_path / EVAL_FILE)
    assert [int(r["iteration"]) for r in rows] == [2, 4, 5]  # every 2 iterations and the last one
    assert [int(r["frames"]) for r in rows] == [256, 512, 640]
    assert all(r["eval/episodes"] == "3" and r["policy"] == "sampled" for r in rows)
    assert all(0.0 <= float(r["eval/success"]) <= 1.0 and float(r["eval/episode_length"]) <= 16 for r in rows)
    with open(tmp_path / "metrics.csv") as f:
        header = f.readline()
    assert "eval/" not in header


def test_evaluation_does_not_change_training(tiny_cfg, tmp_path):
    def train(every):
        run_dir = tmp_path / f"every{every}"
        trainer = Trainer(tiny_cfg("env=doorkey_5x5", "total_frames=384", f"eval.every={every}",
                                   "eval.episodes=2", "env.max_episode_steps=16"), run_dir)
        try:
            trainer.train()
        finally:
            trainer.close()
        return [{k: v for k, v in r.items() if not k.startswith("time/")} for r in _rows(run_dir / "metrics.csv")]

    assert train(1) == train(0)


def test_resumed_eval_log_drops_rows_after_the_checkpoint(tmp_path):
    log = EvalLog(tmp_path, resume_iteration=None)
    for it in (2, 4, 6):
        log.write({"iteration": it, "frames": it * 10, "policy": "greedy"})
    EvalLog(tmp_path, resume_iteration=4)
    assert [r["iteration"] for r in _rows(tmp_path / EVAL_FILE)] == ["2", "4"]
    EvalLog(tmp_path, resume_iteration=None)  # a fresh (not resumed) run starts a new file
    assert not (tmp_path / EVAL_FILE).exists()


def _spy_steps(agent) -> list:
    """Record (state in, episode_start, state out) of every ``agent.step`` call."""
    calls, step = [], agent.step

    def spy(grid, state, start):
        out = step(grid, state, start)
        calls.append((state.clone(), start.clone(), out[3].clone()))
        return out

    agent.step = spy
    return calls


def test_recurrent_policy_gets_a_fresh_state_per_episode_and_carries_it(tiny_cfg, tmp_path):
    from curiosity.agent import ActorCritic

    cfg = tiny_cfg("env=doorkey_5x5", "env.max_episode_steps=6", "eval.episodes=3", "agent.recurrent=gru")
    evaluator = HeldOutEvaluator(cfg, tmp_path, torch.device("cpu"))
    agent = ActorCritic((7, 7, 4), 7, 8, 32, recurrent="gru")
    calls = _spy_steps(agent)
    first = evaluator.play(agent, iteration=1)
    assert first["length"].tolist() == [6] * 3 and len(calls) == 6  # DoorKey takes more than 6 steps
    assert calls[0][1].all() and not calls[0][0].any()  # every episode starts from a reset state
    for before, now in zip(calls, calls[1:]):
        assert not now[1].any() and torch.equal(now[0], before[2])  # carried, never reset mid-episode
    calls.clear()
    second = evaluator.play(agent, iteration=1)  # nothing leaks from the previous evaluation
    assert not calls[0][0].any()
    assert np.array_equal(first["return"], second["return"])
