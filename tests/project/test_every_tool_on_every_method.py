"""Every tool on every method (issue 28): train a tiny run of each ``conf/method`` yaml, then run
the renderer, the heatmaps, the learnability diagnostic, the library's load-and-score and the
Stable-Baselines3 wrapper on it. A tool either works on the run or refuses in one clean line
(a method without an intrinsic module has nothing to diagnose, load or wrap).

Wherever a tool scores an episode (the renderer's panel, the library, the SB3 wrapper) an
episodic method (count, ride, noveld, e3b) must use its episodic memory as the trainer does:
turning left, right and left again revisits the first successor, which pays less the second
time than the first. Before issue 28 the library and the wrapper scored through the stateless
``reward`` (a revisit paid as a first visit) and the tools could not load an e3b run whose
env count was not 1, nor a random or extrinsic-only run on the matched window view.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from curiosity.paths import method_names
from curiosity.tools import diagnose, heatmaps, render
from curiosity.tools.run_state import RunState
from curiosity.trainer import Trainer

EPISODIC = ("count", "ride", "noveld", "e3b")
WITHOUT_MODULE = ("none", "random")
ENV_ID = "MiniGrid-DoorKey-5x5-v0"
LEFT, RIGHT = 0, 1
SCRIPT = [LEFT, RIGHT, LEFT]  # the third successor is the first one again
NUM_ENVS = 4
# 2 iterations of 4 envs x 32 steps (tests/conftest.py TINY), short episodes, a checkpoint at the
# end; on the matched predictor view of the comparisons (conf/view/window9.yaml: every method with
# a module reads the 9x9 window, none and random build no predictor grid)
VIEW = "view=window9"
RUN = ["env=doorkey_5x5", VIEW, "env.max_episode_steps=12", "total_frames=256", "eval.every=0"]


def revisit_pays_less(raw) -> bool:
    raw = np.asarray(raw, dtype=float)
    return bool(raw[0] > 0 and raw[2] < raw[0])


@pytest.fixture
def run_dir(request, tiny_cfg, tmp_path):
    cfg = tiny_cfg(*RUN, f"method={request.param}")
    trainer = Trainer(cfg, tmp_path / "run")
    try:
        trainer.train()
    finally:
        trainer.close()
    assert (tmp_path / "run" / "checkpoints" / "latest.pt").exists()
    return tmp_path / "run"


@pytest.mark.parametrize("run_dir", method_names(), indirect=True)
def test_every_tool_runs_on_a_tiny_run_of_the_method(run_dir, tmp_path, capsys):
    state = RunState.load(run_dir)
    name = state.cfg.method.name
    has_module = name not in WITHOUT_MODULE
    assert (state.intrinsic is not None) == has_module
    assert state.runtime.num_envs == NUM_ENVS  # built as the trainer built it

    # the renderer: the CLI on the run, then a scripted episode's panel values
    gif = tmp_path / "render" / "episode.gif"
    render.main([str(run_dir), "--out", str(gif)])
    assert gif.exists() and gif.with_suffix(".jsonl").read_text()
    _, records = render.play_episodes(state, episodes=1, seed=0, actions=SCRIPT)
    raw = [r["reward_int_raw"] for r in records]
    assert np.isfinite(raw).all() and (has_module or not any(raw))
    if name in EPISODIC:
        assert revisit_pays_less(raw), ("render", raw)

    # the heatmaps: the intrinsic-reward map (a method with a module) and the visitation map
    maps = tmp_path / "maps"
    heatmaps.main([str(run_dir), "--out-dir", str(maps)])
    assert (maps / "visitation.png").exists()
    assert (maps / "intrinsic_frames0000000256.png").exists() == has_module

    # the learnability diagnostic, on data of the run's own policy
    out = tmp_path / "diagnose"
    argv = ["--methods", name, "--sources", "checkpoint", "--checkpoint", str(run_dir), "--transitions", "32",
            "--updates", "2", "--batch-size", "16", "--eval-every", "1", "--out", str(out),
            "env=doorkey_5x5", VIEW, f"env.num_envs={NUM_ENVS}"]
    if has_module:
        diagnose.main(argv)
        assert (out / "summary.csv").exists() and (out / f"{name}.png").exists()
    else:
        with pytest.raises(SystemExit) as exit_info:
            diagnose.main(argv)
        assert exit_info.value.code == 2 and "has no predictor" in capsys.readouterr().err

    library_and_sb3(run_dir, name, has_module, tmp_path)


def library_and_sb3(run_dir, name: str, has_module: bool, tmp_path) -> None:
    from curiosity.intrinsic.library import IntrinsicReward, make_env, predictor_grids

    if not has_module:
        with pytest.raises(ValueError, match="has no intrinsic reward"):
            IntrinsicReward.from_run(run_dir)
        return
    # the library: the run's method (weights, memory, normalizers), saved and loaded again
    loaded = IntrinsicReward.load(IntrinsicReward.from_run(run_dir).save(tmp_path / "method.pt"))
    assert loaded.num_envs == NUM_ENVS
    method = loaded.method
    envs = [make_env(ENV_ID, method) for _ in range(NUM_ENVS)]
    cur, act, nxt = [], [], []
    for i, env in enumerate(envs):  # every env plays the script: T=3 steps of the 4 envs
        obs, info = env.reset(seed=i)
        rows = []
        for a in SCRIPT:
            grid = predictor_grids(obs, info, method, "current")
            obs, _, _, _, info = env.step(a)
            rows.append((grid, a, predictor_grids(obs, info, method, "successor")))
        cur.append([r[0] for r in rows])
        act.append([r[1] for r in rows])
        nxt.append([r[2] for r in rows])
    swap = lambda x: np.swapaxes(np.asarray(x), 0, 1).reshape(-1, *np.asarray(x).shape[2:])  # noqa: E731
    start = np.repeat([[True], [False], [False]], NUM_ENVS, axis=1).reshape(-1)  # the episodes begin here
    raw = loaded.score(swap(cur), swap(act).reshape(-1), swap(nxt), episode_start=start).reshape(3, NUM_ENVS)
    assert torch.isfinite(raw).all()
    if name in EPISODIC:
        assert all(revisit_pays_less(raw[:, n].numpy()) for n in range(NUM_ENVS)), ("library", raw)

    # the Stable-Baselines3 wrapper around the loaded method
    pytest.importorskip("stable_baselines3")
    from stable_baselines3.common.vec_env import DummyVecEnv

    from curiosity.intrinsic.sb3 import IntrinsicRewardVecEnv

    venv = DummyVecEnv([lambda: make_env(ENV_ID, method) for _ in range(NUM_ENVS)])
    venv.seed(0)
    wrapped = IntrinsicRewardVecEnv(venv, loaded, train_every=2, seed=0)
    wrapped.reset()
    raw = []
    for a in SCRIPT:
        wrapped.step_async(np.full(NUM_ENVS, a))
        _, reward, _, infos = wrapped.step_wait()
        assert np.isfinite(reward).all()
        raw.append([info["intrinsic_reward_raw"] for info in infos])
    raw = np.asarray(raw)
    if name in EPISODIC:
        assert all(revisit_pays_less(raw[:, n]) for n in range(NUM_ENVS)), ("sb3", raw)
    if loaded.optimizer is not None:
        assert "loss" in wrapped.last_train_metrics  # it trained the method after 2 steps
    for env in envs:
        env.close()
    wrapped.close()
