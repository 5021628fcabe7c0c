"""`make bench` measures what it claims: SPS, the time split, GFLOP/s and a CSV."""

from __future__ import annotations

import pandas as pd
import pytest

from curiosity.tools.bench import (
    available_methods,
    main,
    matmul_peak_gflops,
    summarize,
    target_ratio,
)

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
    main(["--methods", "random", "--backends", "python", "envpool", "--iterations", "1", "--repeats", "1",
          "--jobs", "1", "--num-envs", "4", "--env-steps", "20", "--no-peer", "--out", str(out), "env=doorkey_8x8",
          *TINY])  # envpool has DoorKey-8x8, not MultiRoom-N4-S5
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
    split = table[["env_s", "inference_s", "intrinsic_score_s", "intrinsic_train_s", "update_s"]].sum(axis=1)
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
    main(["--methods", "random", "--backends", "python", "--iterations", "1", "--repeats", "1", "--jobs", "1",
          "--num-envs", "4", "--env-steps", "5", "--no-peer", "--out", str(out), *TINY])
    table = pd.read_csv(out).set_index("method")
    assert table.error["random"] == "RuntimeError: predictor exploded" and pd.isna(table.sps["random"])
    assert table.sps["none"] > 0


def test_the_sb3_peer_is_timed_in_the_same_run_at_the_reference_setting(tmp_path, monkeypatch):
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
    main(["--methods", "none", "--backends", "python", "--iterations", "1", "--repeats", "1", "--jobs", "1",
          "--num-envs", "4", "--env-steps", "5", "--peer", "--out", str(out), "env=doorkey_8x8", *TINY])
    table = pd.read_csv(out).set_index("method")
    # the project's envs and steps; SB3's reference epochs and minibatches, not the project's 1 x 2
    assert seen == {"env_id": "MiniGrid-DoorKey-8x8-v0", "num_envs": 4, "num_steps": 16, "epochs": 4,
                    "minibatches": 4}
    assert table.sps["sb3_ppo"] > 0 and table.sps_vs_sb3["sb3_ppo"] == pytest.approx(1.0)
    assert table.sps_vs_sb3["none"] == pytest.approx(table.sps["none"] / table.sps["sb3_ppo"])


def test_the_default_task_is_the_comparisons_and_a_forward_model_splits_scoring_from_training(tmp_path):
    out = tmp_path / "bench.csv"
    main(["--methods", "forward_conv", "--iterations", "1", "--repeats", "1", "--jobs", "1", "--num-envs", "2",
          "--env-steps", "5", "--no-peer", "--out", str(out), *TINY])
    table = pd.read_csv(out).set_index("method")
    assert list(table.backend) == ["python", "python"]  # the studies' backend by default
    fc = table.loc["forward_conv"]
    assert fc.intrinsic_score_s > 0 and fc.intrinsic_train_s > 0
    assert table.intrinsic_train_s["none"] == pytest.approx(0, abs=1e-3)
    assert (table.torch_threads == 1).all() and (table.jobs == 1).all()


def test_repeats_give_medians_ranges_and_the_target_verdict():
    single = pd.DataFrame([
        {"method": m, "backend": "python", "repeat": r, "sps": sps, "env_s": env}
        for m, values in {"none": [100, 300, 200], "forward_conv": [90, 50, 70], "sb3_ppo": [100, 100, 100],
                          "forward_transformer": [60, 40, 50], "random": [900, 900, 900]}.items()
        for r, (sps, env) in enumerate(zip(values, [0.1, 0.3, 0.2]))])
    table = summarize(single).set_index("method")
    assert table.sps["none"] == 200 and table.sps_min["none"] == 100 and table.sps_max["none"] == 300
    assert table.env_s["none"] == pytest.approx(0.2) and table.repeats["none"] == 3
    assert table.sps_vs_sb3["none"] == pytest.approx(2.0) and table.meets["none"] == "yes"  # >= 1.5
    assert table.sps_vs_sb3["forward_conv"] == pytest.approx(0.7) and table.meets["forward_conv"] == "no"
    assert table.meets["forward_transformer"] == "yes"  # 0.5 >= its 0.5 target
    assert table.meets["random"] == "" and table.meets["sb3_ppo"] == ""
    assert target_ratio("none") == 1.5 and target_ratio("rnd") == 1.0
    drift = summarize(pd.DataFrame([{"method": m, "backend": "python", "repeat": r, "sps": sps}
                                    for m, values in {"none": [150, 300], "sb3_ppo": [100, 200]}.items()
                                    for r, sps in enumerate(values)])).set_index("method")
    # load that halves every rate in one round moves the ratio of medians, not the round ratios
    assert drift.sps_vs_sb3_rounds["none"] == pytest.approx(1.5)
    assert pd.isna(target_ratio("random"))


def test_side_by_side_jobs_run_in_worker_processes_one_thread_each(tmp_path):
    out = tmp_path / "bench.csv"
    main(["--methods", "random", "--iterations", "1", "--repeats", "2", "--jobs", "2", "--num-envs", "2",
          "--env-steps", "5", "--no-peer", "--out", str(out), "env=doorkey_5x5", *TINY])
    single = pd.read_csv(tmp_path / "bench_repeats.csv")
    assert sorted(zip(single.method, single.repeat)) == [("none", 0), ("none", 1), ("random", 0), ("random", 1)]
    assert "error" not in single or single.error.isna().all()
    table = pd.read_csv(out)
    assert (table.repeats == 2).all() and (table.sps_min <= table.sps).all() and (table.sps <= table.sps_max).all()
