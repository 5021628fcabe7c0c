"""Rollout storage: env outputs staged on the host reach the device tensors only in upload,
and then hold exactly what per-step writes would have."""

import numpy as np
import torch

from curiosity.agent.storage import RolloutStorage

T, N, OBS, PRED = 3, 2, (7, 7, 4), (9, 9, 4)


def fake_step(rng, step):
    info = {"valid": rng.random(N) > 0.2, "agent_x": rng.integers(0, 9, N), "agent_y": rng.integers(0, 9, N),
            "agent_dir": rng.integers(0, 4, N), "carrying": rng.integers(-1, 5, N),
            "full_grid": rng.integers(0, 11, (N, *PRED), dtype=np.uint8),
            "next_full_grid": rng.integers(0, 11, (N, *PRED), dtype=np.uint8),
            "next_full_grid_fixed": rng.integers(0, 11, (N, *PRED), dtype=np.uint8),
            "state_key": rng.integers(0, 2**62, N)}
    next_obs = rng.integers(0, 11, (N, *OBS), dtype=np.uint8)
    return (next_obs, rng.random(N).astype(np.float32), rng.random(N) > 0.7, rng.random(N) > 0.8,
            rng.random(N) > 0.5, info)


def fill(storage, seed=0):
    rng = np.random.default_rng(seed)
    storage.start_predictor({"full_grid": rng.integers(0, 11, (N, *PRED), dtype=np.uint8)})
    for step in range(T):
        storage.record_step(step, *fake_step(rng, step))


FIELDS = RolloutStorage.STAGED + ("pred_obs", "pred_next_obs", "pred_next_obs_fixed", "state_key")


def test_staged_storage_matches_direct_writes_after_upload():
    direct = RolloutStorage(T, N, OBS, torch.device("cpu"), pred_shape=PRED)
    staged = RolloutStorage(T, N, OBS, torch.device("cpu"), pred_shape=PRED, stage=True)
    assert not direct.staged and staged.staged
    fill(direct)
    fill(staged)
    assert not staged.valid.eq(0).any() and not staged.next_obs.any()  # nothing copied yet
    staged.upload()
    for name in FIELDS:
        assert torch.equal(getattr(staged, name), getattr(direct, name)), name
    assert torch.equal(direct.dones, torch.logical_or(direct.terminated.bool(), direct.truncated.bool()).float())
    assert np.array_equal(staged.predictor_state(), direct.predictor_state())


def test_unstaged_host_arrays_are_the_storage_itself():
    s = RolloutStorage(T, N, OBS, torch.device("cpu"))
    s.host["rewards_ext"][1, 0] = 2.5
    assert s.rewards_ext[1, 0] == 2.5
    assert s.pred_obs is s.obs and "pred_obs" not in s.host
