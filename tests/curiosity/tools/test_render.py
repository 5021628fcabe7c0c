"""The renderer: frame counts of scripted episodes, and overlay values equal the trainer's."""

from __future__ import annotations

import json

import imageio.v3 as iio
import numpy as np
import pandas as pd
import pytest
import torch

from curiosity.envs import make_single_env
from curiosity.run.hooks import standard_hooks
from curiosity.tools.render import _fmt, main, panel_lines, play_episodes
from curiosity.tools.run_state import RunState
from curiosity.tools.training_renders import RenderHook
from curiosity.trainer import Trainer

RND = ["method=rnd", "method.obs_norm_init_steps=2", "method.module.channels=8",
       "method.module.embedding_dim=16", "method.module.predictor_hidden=16"]
LEFT, RIGHT, FORWARD, DONE = 0, 1, 2, 6


@pytest.fixture
def trained_run(tiny_cfg, tmp_path):
    """A run directory with a checkpoint after one iteration of RND on DoorKey-5x5 (time limit 5)."""
    cfg = tiny_cfg("env=doorkey_5x5", "env.max_episode_steps=5", "total_frames=128", *RND)
    trainer = Trainer(cfg, tmp_path)
    try:
        trainer.train()
    finally:
        trainer.close()
    return tmp_path


def test_scripted_episodes_give_expected_frame_counts(trained_run, tmp_path):
    out = tmp_path / "out" / "ep.gif"
    script = [LEFT, RIGHT, LEFT, RIGHT, DONE, DONE, DONE, DONE]  # longer than the 5-step limit
    state = RunState.load(trained_run)
    frames, records = play_episodes(state, episodes=2, seed=3, actions=script)
    assert len(records) == 2 * 5  # each episode truncated by the time limit
    assert len(frames) == 2 * (5 + 1)  # one frame per step plus the final state
    assert [r["truncated"] for r in records[:5]] == [False] * 4 + [True]

    main([str(trained_run), "--episodes", "1", "--out", str(out), "--frames-dir", str(tmp_path / "png")])
    gif = iio.imread(out, index=None)
    lines = out.with_suffix(".jsonl").read_text().splitlines()
    assert gif.shape[0] == len(lines) + 1  # sampled episode: steps + final frame
    assert len(list((tmp_path / "png").glob("frame_*.png"))) == gif.shape[0]


def test_short_script_stops_the_episode(trained_run):
    state = RunState.load(trained_run)
    frames, records = play_episodes(state, episodes=1, seed=0, actions=[LEFT, LEFT, FORWARD])
    assert [r["action"] for r in records] == [LEFT, LEFT, FORWARD]
    assert len(frames) == 4


@pytest.mark.parametrize("predictor_full_obs", [False, True])
def test_overlay_values_equal_the_trainers_logged_values(tiny_cfg, tmp_path, predictor_full_obs):
    """Raw/normalized intrinsic reward and both values, scored by the renderer's path, equal
    what the trainer stored for the same transitions (also when the predictor sees the
    full grid and the policy its own view)."""
    cfg = tiny_cfg("env=doorkey_5x5", "total_frames=256", f"method.predictor_full_obs={predictor_full_obs}", *RND)
    trainer = Trainer(cfg, tmp_path)
    try:
        timers = dict.fromkeys(("env", "inference", "storage", "intrinsic_score", "intrinsic_train", "update"), 0.0)
        trainer.iteration = 1
        trainer.collect_rollout(timers)
        trainer.score_intrinsic()
        s = trainer.storage
        state = RunState.from_trainer(trainer)
        obs, act = s.flat("obs").cpu(), s.flat("actions").cpu()
        pred_obs, pred_nxt = s.flat("pred_obs"), s.flat("pred_next_obs")
        raw = state.intrinsic_raw(pred_obs.cpu(), act, pred_nxt.cpu())
        probs, v_ext, v_int = state.policy(obs)
        _, records = play_episodes(state, episodes=1, seed=0, actions=[FORWARD, LEFT])  # shapes fit
    finally:
        trainer.close()
    assert len(records) == 2
    np.testing.assert_allclose(raw, s.flat("rewards_int_raw").numpy(), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(state.normalize_intrinsic(raw), s.flat("rewards_int").numpy(), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(v_ext, s.flat("values_ext").numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(v_int, s.flat("values_int").numpy(), rtol=1e-5, atol=1e-6)
    taken = probs[np.arange(len(act)), act.numpy()]
    np.testing.assert_allclose(np.log(taken), s.flat("logprobs").numpy(), rtol=1e-4, atol=1e-5)
    assert raw.std() > 0  # a real predictor, not zeros


def test_records_match_a_replay_and_the_panel_prints_them(trained_run, tmp_path):
    state = RunState.load(trained_run)
    script = [FORWARD, LEFT, FORWARD, RIGHT]
    _, records = play_episodes(state, episodes=1, seed=7, actions=script)
    env = make_single_env(state.cfg.env)
    obs, _ = env.reset(seed=7)
    for r, action in zip(records, script):
        with torch.no_grad():
            logits, v_ext, v_int = state.agent(torch.as_tensor(obs).unsqueeze(0))
        nxt, reward, *_ = env.step(action)
        batch = state.transitions(obs, [action], nxt)
        with torch.no_grad():
            raw = float(state.intrinsic.reward(batch)[0])
            loss = float(state.intrinsic.loss(batch)[0])
        assert r["reward_ext"] == reward and r["action"] == action
        assert r["value_ext"] == pytest.approx(float(v_ext[0]), abs=1e-6)
        assert r["value_int"] == pytest.approx(float(v_int[0]), abs=1e-6)
        assert r["action_probs"] == pytest.approx(torch.softmax(logits[0], -1).tolist(), abs=1e-6)
        assert r["reward_int_raw"] == pytest.approx(raw, rel=1e-5)
        assert r["reward_int_norm"] == pytest.approx(raw / (float(state.rew_norm.rms.std) + 1e-8), rel=1e-5)
        assert r["predictor_error"] == pytest.approx(loss, rel=1e-5)
        text = "\n".join(panel_lines(r))
        for key, digits in (("reward_int_raw", 5), ("reward_int_norm", 4), ("value_ext", 4),
                            ("value_int", 4), ("predictor_error", 5), ("reward_ext", 4)):
            assert _fmt(r[key], digits) in text
        assert f"{r['action_probs'][action]:.3f}" in text
        obs = nxt


def test_method_none_renders_without_a_predictor(tiny_cfg, tmp_path):
    cfg = tiny_cfg("env=doorkey_5x5", "env.max_episode_steps=4", "total_frames=128", "method=none")
    trainer = Trainer(cfg, tmp_path)
    trainer.checkpoint()
    trainer.close()
    out = tmp_path / "none.gif"
    main([str(tmp_path), "--out", str(out)])
    rows = [json.loads(x) for x in out.with_suffix(".jsonl").read_text().splitlines()]
    assert len(rows) == 4 and iio.imread(out, index=None).shape[0] == 5
    assert all(r["reward_int_raw"] == 0.0 and r["predictor_error"] is None for r in rows)
    assert "pred err -" in "\n".join(panel_lines({**rows[0], "predictor_error": float("nan")}))


def test_periodic_rendering_writes_files_and_leaves_training_unchanged(tiny_cfg, tmp_path):
    def run(render_every: int, run_dir):
        cfg = tiny_cfg("env=doorkey_5x5", "env.max_episode_steps=6", "total_frames=256",
                       f"logger.render_every={render_every}", *RND)
        hooks = standard_hooks(cfg) + [RenderHook(render_every)]
        trainer = Trainer(cfg, run_dir, hooks=hooks)
        try:
            trainer.train()
        finally:
            trainer.close()
        metrics = pd.read_csv(run_dir / "metrics.csv")
        return metrics.drop(columns=[c for c in metrics.columns if c.startswith("time/")])

    pd.testing.assert_frame_equal(run(1, tmp_path / "a"), run(0, tmp_path / "b"))
    renders = tmp_path / "a" / "renders"
    assert len(list(renders.glob("episode_frames*.gif"))) == 2
    assert len(list(renders.glob("intrinsic_frames*.png"))) == 2
    assert not (tmp_path / "b" / "renders").exists()


def test_noisy_tv_flags_reach_the_panel(tiny_cfg, tmp_path):
    cfg = tiny_cfg("env=doorkey_5x5", "env.noisy_tv=remote", "env.tv_whole_view=true", "total_frames=128",
                   "method=none")
    trainer = Trainer(cfg, tmp_path)
    state = RunState.from_trainer(trainer)
    trainer.close()
    _, records = play_episodes(state, episodes=1, seed=0, actions=[LEFT, DONE])
    assert [r["tv"]["tv_action"] for r in records] == [False, True]
    assert "TV: action=on, in_view=on" in "\n".join(panel_lines(records[1]))
    assert "TV: action=off" in "\n".join(panel_lines(records[0]))


def test_recurrent_policy_state_is_carried_through_each_episode(tiny_cfg, tmp_path):
    cfg = tiny_cfg("env=doorkey_5x5", "env.max_episode_steps=3", "total_frames=128", "agent.recurrent=gru")
    trainer = Trainer(cfg, tmp_path)
    trainer.checkpoint()
    trainer.close()
    state = RunState.load(tmp_path)  # builds the GRU policy the checkpoint holds
    assert state.agent.recurrent == "gru"
    calls, step = [], state.agent.step

    def spy(grid, memory, start):
        out = step(grid, memory, start)
        calls.append((memory.clone(), bool(start[0]), out[3].clone()))
        return out

    state.agent.step = spy
    _, records = play_episodes(state, episodes=2, seed=0, actions=[LEFT, RIGHT, LEFT])
    assert len(records) == 6
    assert [c[1] for c in calls] == [True, False, False] * 2  # reset at each episode's first step
    for i in (1, 2, 4, 5):
        assert torch.equal(calls[i][0], calls[i - 1][2])  # and carried within the episode
    assert not torch.allclose(calls[2][0], torch.zeros_like(calls[2][0]))
