"""`make bench` measures what it claims: SPS, the time split, GFLOP/s and a CSV."""

from __future__ import annotations

import pandas as pd
import pytest

from curiosity.tools.bench import available_methods, main, matmul_peak_gflops

TINY = ["agent.num_steps=16", "agent.num_minibatches=2", "agent.update_epochs=1",
        "agent.hidden_size=16", "agent.conv_channels=8"]


def test_methods_come_from_the_config_folder_baseline_first():
    methods = available_methods()
    assert methods[0] == "none" and {"none", "random"} <= set(methods)


def test_matmul_peak_is_a_plausible_rate():
    assert 0.1 < matmul_peak_gflops(threads=1, n=256, repeats=2) < 1e5


def test_bench_writes_one_row_per_method_and_backend(tmp_path):
    pytest.importorskip("envpool", reason="envpool is not installed (optional extra 'fast')")
    out = tmp_path / "bench.csv"
    main(["--methods", "random", "--iterations", "1", "--num-envs", "4", "--env-steps", "20", "--no-peer",
          "--out", str(out), *TINY])
    table = pd.read_csv(out)
    assert sorted(zip(table.method, table.backend)) == [
        ("none", "envpool"), ("none", "python"), ("random", "envpool"), ("random", "python")]
    assert "error" not in table or table.error.isna().all()
    assert (table.backend_used == table.backend).all()
    assert (table.sps > 0).all() and (table.raw_env_sps > 0).all()
    none = table[table.method == "none"]
    assert (none.sps_vs_none == 1).all()
    assert (none.learner_gflops > 0).all() and (none.gflop_per_iteration > 0).all()
    random = table[table.method == "random"]
    assert (random.update_s < none.update_s.max()).all()  # no learner to update
    split = table[["env_s", "inference_s", "intrinsic_s", "update_s"]].sum(axis=1)
    # the split's phases are intervals inside the iteration (what else an iteration spends,
    # metrics and hooks, is a share that depends on the load: not asserted)
    assert (split > 0).all() and (split <= table.iteration_s * 1.01).all()


def test_a_broken_method_is_reported_not_fatal(tmp_path, monkeypatch):
    import curiosity.tools.bench as bench

    real = bench.bench_method

    def broken_for_random(cfg, iterations):
        if cfg.method.name == "random":
            raise RuntimeError("predictor exploded")
        return real(cfg, iterations)

    monkeypatch.setattr(bench, "bench_method", broken_for_random)
    out = tmp_path / "bench.csv"
    main(["--methods", "random", "--backends", "python", "--iterations", "1", "--num-envs", "4",
          "--env-steps", "5", "--no-peer", "--out", str(out), *TINY])
    table = pd.read_csv(out).set_index("method")
    assert table.error["random"] == "RuntimeError: predictor exploded" and pd.isna(table.sps["random"])
    assert table.sps["none"] > 0


def test_the_sb3_peer_is_timed_in_the_same_run_with_the_same_batch(tmp_path, monkeypatch):
    pytest.importorskip("stable_baselines3", reason="the sb3 extra is not installed")
    from curiosity.tools import bench

    seen = {}
    real = bench.sb3_ppo_sps

    def spy(env_id, num_envs, num_steps, update_epochs, num_minibatches, iterations):
        seen.update(env_id=env_id, num_envs=num_envs, num_steps=num_steps, epochs=update_epochs,
                    minibatches=num_minibatches)
        return real(env_id, num_envs, num_steps, update_epochs, num_minibatches, iterations)

    monkeypatch.setattr(bench, "sb3_ppo_sps", spy)
    out = tmp_path / "bench.csv"
    main(["--methods", "none", "--backends", "python", "--iterations", "1", "--num-envs", "4",
          "--env-steps", "5", "--peer", "--out", str(out), *TINY])
    table = pd.read_csv(out).set_index("method")
    assert seen == {"env_id": "MiniGrid-DoorKey-8x8-v0", "num_envs": 4, "num_steps": 16, "epochs": 1,
                    "minibatches": 2}
    assert table.sps["sb3_ppo"] > 0 and table.sps_vs_sb3["sb3_ppo"] == pytest.approx(1.0)
    assert table.sps_vs_sb3["none"] == pytest.approx(table.sps["none"] / table.sps["sb3_ppo"])
