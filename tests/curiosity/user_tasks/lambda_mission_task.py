"""A user task (``env.id=lambda_mission_task:LambdaMissionEmpty-v0``) whose env holds a
lambda, so it cannot be pickled: a checkpoint must still never lose the run."""

import gymnasium as gym
from minigrid.core.mission import MissionSpace
from minigrid.envs import EmptyEnv

TASK_ID = "LambdaMissionEmpty-v0"


class LambdaMissionEmpty(EmptyEnv):
    def __init__(self, **kwargs):
        super().__init__(size=5, **kwargs)
        self.mission_space = MissionSpace(mission_func=lambda: "get to the green goal square")


if TASK_ID not in gym.registry:
    gym.register(id=TASK_ID, entry_point=LambdaMissionEmpty)
