"""Integrity of a run (issue 13): exact minibatches, lr schedule, resume guards, checkpoints
that never lose a run."""

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from curiosity.agent import ActorCritic, ppo_update
from curiosity.config import ConfigError
from curiosity.trainer import Trainer

USER_TASKS = Path(__file__).parent / "user_tasks"


def train(cfg, run_dir, max_iterations=None):
    trainer = Trainer(cfg, run_dir)
    try:
        row = trainer.train(max_iterations=max_iterations)
    finally:
        trainer.close()
    return trainer, row


@pytest.mark.parametrize("rows", [2048, 2050, 2047])
def test_ppo_takes_exactly_num_minibatches_steps_per_epoch(rows):
    """A ragged valid-row count (envpool's autoreset rows) must not add a tiny extra step."""
    torch.manual_seed(0)
    agent = ActorCritic((7, 7, 4), 7, 8, 16)
    batch = {
        "obs": torch.randint(0, 3, (rows, 7, 7, 4), dtype=torch.uint8),
        "actions": torch.randint(0, 7, (rows,)),
        "logprobs": torch.full((rows,), -1.9),
        "advantages": torch.randn(rows), "returns_ext": torch.randn(rows),
        "returns_int": torch.randn(rows), "values_ext": torch.zeros(rows), "values_int": torch.zeros(rows),
    }
    cfg = OmegaConf.create({"num_minibatches": 4, "update_epochs": 2, "clip_coef": 0.2, "norm_adv": True,
                            "clip_vloss": True, "ent_coef": 0.01, "vf_coef": 0.5, "max_grad_norm": 0.5,
                            "target_kl": None})
    sizes = []
    hook = agent.register_forward_hook(lambda m, inp, out: sizes.append(len(inp[0])))
    opt = torch.optim.Adam(agent.parameters(), lr=1e-4)
    out = ppo_update(agent, opt, batch, cfg, use_int_value=True)
    hook.remove()
    assert out["losses/minibatches"] == 8
    assert max(sizes) - min(sizes) <= 1 and sum(sizes) == 2 * rows


def test_lr_anneals_from_the_full_lr_to_lr_over_n(tiny_cfg, tmp_path):
    cfg = tiny_cfg("total_frames=512", "agent.anneal_lr=true", "agent.lr=0.001")  # 4 iterations
    trainer = Trainer(cfg, tmp_path)
    lrs = []
    try:
        for _ in range(trainer.num_iterations):
            lrs.append(trainer.train(max_iterations=1)["losses/lr"])
    finally:
        trainer.close()
    assert lrs == pytest.approx([0.001, 0.00075, 0.0005, 0.00025])


def test_resume_with_a_changed_predictor_view_is_refused_up_front(tiny_cfg, tmp_path):
    cfg = tiny_cfg("method=forward_conv", "total_frames=512", "logger.checkpoint_every=1")
    train(cfg, tmp_path, max_iterations=1)
    changed = tiny_cfg("method=forward_conv", "total_frames=512", "method.predictor_crop=5")
    with pytest.raises(ConfigError, match=r"^method.predictor_crop=5: .*predictor_crop=9"):
        Trainer(changed, tmp_path)


def test_resume_without_env_state_reseeds_instead_of_replaying(tiny_cfg, tmp_path):
    """Async envs cannot be snapshotted: the resumed run must not restart from the first
    layouts of the run (generation 0) but from streams of the resumed iteration."""
    cfg = tiny_cfg("env=doorkey_8x8", "env.vectorization=async", "total_frames=512",
                   "logger.checkpoint_every=1")
    train(cfg, tmp_path / "run", max_iterations=1)
    fresh = Trainer(tiny_cfg("env=doorkey_8x8", "env.vectorization=async", "total_frames=512",
                             "resume=false"), tmp_path / "fresh")
    start_obs = fresh.obs.copy()
    fresh.close()
    with pytest.warns(UserWarning, match="resuming without the envs' state"):
        resumed = Trainer(cfg, tmp_path / "run")
    try:
        assert resumed.iteration == 1
        assert not any(np.array_equal(resumed.obs[i], start_obs[i]) for i in range(len(start_obs)))
    finally:
        resumed.close()


def test_checkpoint_saves_the_cuda_rng_on_cuda(tiny_cfg, tmp_path):
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    cfg = tiny_cfg("total_frames=512", "logger.checkpoint_every=1", "device=cuda")
    train(cfg, tmp_path, max_iterations=1)
    state = torch.load(tmp_path / "checkpoints" / "latest.pt", weights_only=False)
    assert state["cuda_rng"] is not None and len(state["cuda_rng"]) == torch.cuda.device_count()


def test_unpicklable_user_task_still_finishes_and_writes_its_summary(tiny_cfg, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(USER_TASKS))
    cfg = tiny_cfg("env.id=lambda_mission_task:LambdaMissionEmpty-v0", "total_frames=384",
                   "logger.checkpoint_every=1")
    with pytest.warns(UserWarning, match="cannot be pickled") as record:
        trainer, _ = train(cfg, tmp_path)
    assert sum("cannot be pickled" in str(w.message) for w in record) == 1  # warned once
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["frames"] == 384
    state = torch.load(tmp_path / "checkpoints" / "latest.pt", weights_only=False)
    assert state["envs"] is None and state["agent"] is not None
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):  # really unpicklable
        pickle.dumps(trainer.envs.venv.envs)
