"""The profiler accounts for a short run's wall time, phase by phase."""

from __future__ import annotations

import json

from curiosity.tools.profiling import TIMED_METHODS, main, profile_run


def test_phases_cover_the_wall_time(tiny_cfg, tmp_path):
    cfg = tiny_cfg("env=doorkey_5x5", "method=rnd", "method.obs_norm_init_steps=2", "total_frames=512",
                   "method.module.channels=8", "method.module.embedding_dim=16", "method.module.predictor_hidden=16")
    report = profile_run(cfg, iterations=2, warmup=1, run_dir=tmp_path)
    phases = report["phases_s"]
    assert report["iterations"] == 2 and report["frames"] == 2 * 4 * 32
    for _, label in TIMED_METHODS:  # every phase ran (RND trains a predictor)
        assert phases[label] > 0, label
    assert phases["rollout: env step"] > 0 and phases["rollout: policy inference"] > 0
    measured = sum(v for k, v in phases.items() if not k.startswith("other"))
    assert measured <= report["wall_s"] * 1.01 and measured >= 0.7 * report["wall_s"]


def test_cli_writes_json(tmp_path, capsys):
    out = tmp_path / "p.json"
    main(["env=doorkey_5x5", "env.num_envs=2", "agent.num_steps=16", "agent.num_minibatches=2",
          "agent.update_epochs=1", "agent.hidden_size=16", "agent.conv_channels=4",
          "--iterations", "1", "--warmup", "0", "--json", str(out)])
    report = json.loads(out.read_text())
    assert report["method"] == "none" and report["frames"] == 32
    assert report["phases_s"]["intrinsic: train predictor"] < 0.01  # method=none trains nothing
    assert "rollout: env step" in capsys.readouterr().out
