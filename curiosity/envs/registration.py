"""MiniGrid tasks used by published exploration work that MiniGrid itself does not register.

RIDE (Raileanu & Rocktaschel 2020) and later work report on MultiRoom-N7-S4, N7-S8,
N10-S4, N10-S10 and N12-S10; all come from ``MultiRoomEnv(minNumRooms, maxNumRooms,
maxRoomSize)`` with exactly that many rooms, as RIDE's gym-minigrid fork registers them
(``gym_minigrid/envs/multiroom.py``: 25x25 grid, ``maxNumRooms * 20`` steps, the same in
minigrid 3.x).
Its noisy-TV task MultiRoomNoisyTV-N7-S4 (and a small N4-S5 one) wraps MultiRoom in
``curiosity.envs.noisy_tv.InWorldTV``.

``MiniGrid-MemoryCueS7-v0`` is a memory test of our own (:class:`MemoryCueEnv`).
"""

from __future__ import annotations

import gymnasium as gym
from minigrid.envs.memory import MemoryEnv

# id suffix -> (number of rooms, max room size)
MULTIROOM_VARIANTS = {
    "N7-S4": (7, 4),
    "N7-S8": (7, 8),
    "N10-S4": (10, 4),
    "N10-S10": (10, 10),
    "N12-S10": (12, 10),
}

# noisy-TV ids (RIDE's MultiRoomNoisyTV: MultiRoom plus a ball in the first room whose colour
# the remote resamples; RIDE's remote is `drop`, ours `done`: both no-ops in MultiRoom since
# the TV ball cannot be carried) -> the TV-free task the trainer builds before adding the TV itself
# (MiniGrid-MultiRoom-N4-S5-v0 has SIX rooms in minigrid 3.x; four rooms is its -v1 id)
NOISY_TV_VARIANTS = {"N7-S4": (7, 4), "N4-S5": (4, 5)}
NOISY_TV_TASKS = {"MiniGrid-MultiRoomNoisyTV-N7-S4-v0": "MiniGrid-MultiRoom-N7-S4-v0",
                  "MiniGrid-MultiRoomNoisyTV-N4-S5-v0": "MiniGrid-MultiRoom-N4-S5-v1"}


MEMORY_CUE_ID = "MiniGrid-MemoryCueS7-v0"


class MemoryCueEnv(MemoryEnv):
    """MiniGrid's Memory task with the cue always in the first view.

    ``MemoryEnv`` starts the agent facing east at a random x in the start room, so in 3 of
    4 episodes the cue is behind it: a policy must first learn to *look* (turn around,
    turn back) before memory can pay, which couples exploration with memory. Here the agent
    always starts at x=1 facing east, where the cue (at x=1, one row up) is in the bottom
    row of its 7x7 view; after the first step east the cue is out of sight for good, and
    the 1-wide hallway lets no position or heading carry it. So a feed-forward policy can
    only guess at the fork (success <= ~0.5) and a recurrent one must hold one bit for the
    four steps of the walk. Layout, objects, rewards and the time limit are MemoryEnv's.
    """

    def _gen_grid(self, width, height):
        super()._gen_grid(width, height)
        self.agent_pos = (1, height // 2)


def register_extra_envs() -> None:
    """Register the extra MultiRoom variants and their noisy-TV versions once (idempotent)."""
    variants = [(f"MiniGrid-MultiRoom-{suffix}-v0", "minigrid.envs:MultiRoomEnv", shape)
                for suffix, shape in MULTIROOM_VARIANTS.items()]
    variants += [(f"MiniGrid-MultiRoomNoisyTV-{suffix}-v0", "curiosity.envs.noisy_tv:make_multiroom_noisy_tv",
                  shape) for suffix, shape in NOISY_TV_VARIANTS.items()]
    for env_id, entry_point, (rooms, size) in variants:
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry_point,
                         kwargs={"minNumRooms": rooms, "maxNumRooms": rooms, "maxRoomSize": size})
    if MEMORY_CUE_ID not in gym.registry:
        gym.register(id=MEMORY_CUE_ID, entry_point="curiosity.envs.registration:MemoryCueEnv",
                     kwargs={"size": 7})
