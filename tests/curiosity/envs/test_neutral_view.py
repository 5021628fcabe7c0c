"""The predictor's window is neutral (issue 26): the direction only in the agent's cell, and
the successor every method scores is the grid the agent acts from next, so a pose is one
input whatever the route there."""

import tempfile
from pathlib import Path

import numpy as np
from minigrid.core.actions import Actions

from baselines.count import grid_keys
from curiosity.envs.vector import GridVectorEnv
from curiosity.tools.bonus_probe import QUIET, ScriptedPolicy, _walk, compose
from curiosity.trainer import Trainer

EMPTY = "MiniGrid-Empty-8x8-v0"  # agent at (1, 1) facing east


def window_env(num_envs: int, state_keys: bool = False) -> GridVectorEnv:
    cfg = compose([f"env.id={EMPTY}", f"env.num_envs={num_envs}"])
    return GridVectorEnv(cfg.env, seed=1, full_grid_info=True, grid_crop=9, state_keys=state_keys)


def play(envs: GridVectorEnv, actions: np.ndarray) -> list[dict]:
    _, info = envs.reset()
    infos = [info]
    for a in actions:
        infos.append(envs.step(np.asarray(a))[-1])
    return infos


def test_a_turn_in_place_changes_only_the_agents_cell():
    envs = window_env(1)
    try:
        infos = play(envs, [[int(Actions.left)], [int(Actions.right)], [int(Actions.right)]])
    finally:
        envs.close()
    for before, after in zip(infos, infos[1:]):
        grid_before = before["full_grid"][0]
        succ = after["next_full_grid"][0]
        changed = np.argwhere((grid_before != succ).any(-1))
        assert changed.tolist() == [[4, 4]]  # the window's centre: the agent's cell, nothing else
        assert (succ[..., 3].sum() == succ[4, 4, 3])  # the direction is nowhere but there


def test_one_pose_reached_by_two_routes_gives_one_key():
    # env 0: east then south; env 1: south then east, then turn to face south as env 0 does
    route0 = _walk([(2, 1), (2, 2)], (1, 1), 0)
    route1 = _walk([(1, 2), (2, 2)], (1, 1), 0) + [int(Actions.right)]
    n = max(len(route0), len(route1))
    route0 = [int(Actions.done)] * (n - len(route0)) + route0  # a no-op first, in place
    envs = window_env(2, state_keys=True)
    try:
        infos = play(envs, np.stack([route0, route1], axis=1))
    finally:
        envs.close()
    last = infos[-1]
    assert (last["agent_x"].tolist(), last["agent_y"].tolist(), last["agent_dir"].tolist()) == ([2, 2], [2, 2], [1, 1])
    succ = last["next_full_grid"]
    weights = np.random.default_rng(0).integers(1, 2**62, size=succ[0].size)
    import torch

    keys = grid_keys(torch.as_tensor(succ), torch.as_tensor(weights))
    assert keys[0] == keys[1]  # the count key (key=obs on the window)
    assert last["state_key"][0] == last["state_key"][1]  # and the exact-state key
    fixed = last["next_full_grid_fixed"]  # the forward models' same-window successors differ:
    assert not np.array_equal(fixed[0], fixed[1])  # env 0 stepped south, env 1 turned in place


def test_a_second_noop_in_the_same_place_earns_no_first_visit_bonus():
    actions = [[int(Actions.forward)], [int(Actions.done)], [int(Actions.done)], [int(Actions.forward)]]
    cfg = compose([f"env.id={EMPTY}", "env.num_envs=1", f"agent.num_steps={len(actions)}",
                   "agent.num_minibatches=1", "method=noveld", "view=window9", "total_frames=1000000", *QUIET])
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(cfg, Path(tmp), hooks=[])
        try:
            trainer.policy = ScriptedPolicy(np.asarray(actions))
            trainer.collect_rollout({"env": 0.0, "inference": 0.0, "storage": 0.0})
            trainer.score_intrinsic()
            raw = trainer.storage.rewards_int_raw[:, 0].tolist()
        finally:
            trainer.close()
    # the moves reach new cells (first visits); both no-ops repeat the grid the move reached
    assert raw[1] == 0.0 and raw[2] == 0.0, raw
    assert raw[0] > 0 and raw[3] > 0, raw
