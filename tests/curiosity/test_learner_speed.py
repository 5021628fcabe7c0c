"""The learner's speed changes keep its numbers: bootstrap reuse, thread setting, metric syncs."""

from __future__ import annotations

import torch

from curiosity.trainer import Trainer


def test_reused_bootstrap_values_equal_a_full_forward_pass(tiny_cfg, tmp_path):
    cfg = tiny_cfg("env=doorkey_5x5", "env.max_episode_steps=7", "total_frames=512")
    trainer = Trainer(cfg, tmp_path)
    trainer.collect_rollout({k: 0.0 for k in ("env", "inference", "storage")})
    s = trainer.storage
    assert s.dones.sum() > 0  # episode ends: rows whose successor is a final obs
    trainer._bootstrap_values()
    with torch.inference_mode():
        ext, intr = trainer.agent.values(s.flat("next_obs"))
        last_int = trainer.agent.values(torch.as_tensor(trainer.obs))[1]
    torch.testing.assert_close(s.next_values_ext.reshape(-1), ext, rtol=1e-5, atol=1e-5)
    # the continuing intrinsic stream (RND): the next row's obs, the reset obs at episode ends
    expected_int = torch.cat([s.values_int[1:], last_int[None]])
    torch.testing.assert_close(s.next_values_int, expected_int, rtol=1e-5, atol=1e-5)
    trainer.close()


def test_torch_threads_setting_is_applied(tiny_cfg, tmp_path):
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)  # (the suite runs on one thread: start from another setting)
        trainer = Trainer(tiny_cfg("torch_threads=1", "total_frames=256"), tmp_path)
        assert torch.get_num_threads() == 1
        trainer.close()
    finally:
        torch.set_num_threads(before)


def test_update_metrics_are_minibatch_means(tiny_cfg, tmp_path):
    trainer = Trainer(tiny_cfg("total_frames=256", "agent.update_epochs=2"), tmp_path)
    row = trainer.train(max_iterations=1)
    assert row["losses/minibatches"] == 4  # 2 epochs x 2 minibatches
    for key in ("losses/policy", "losses/value_ext", "losses/entropy", "losses/grad_norm",
                "grad_norm/encoder", "losses/approx_kl", "losses/clip_frac"):
        assert isinstance(row[key], float) and row[key] == row[key], key
    assert 0 < row["losses/entropy"] <= torch.log(torch.tensor(7.0)).item() + 1e-6
    trainer.close()
