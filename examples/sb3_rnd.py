"""Stable-Baselines3 PPO with this testbed's RND (or any method) as an intrinsic reward.

    python examples/sb3_rnd.py                                   # RND on DoorKey-5x5, 50k frames
    python examples/sb3_rnd.py --method forward_conv --frames 20000 --save rnd_method.pt
    python examples/sb3_rnd.py --method forward_conv --override predictor_full_obs=false

Needs the ``sb3`` extra. Prints SB3's log (episode success is ``rollout/ep_rew_mean`` > 0)
and the method's latest training metrics; ``--save`` writes the trained method, which
``IntrinsicReward.load`` restores.
"""

from __future__ import annotations

import argparse

from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor

from curiosity.intrinsic.library import compose_method, make_env, method_names
from curiosity.intrinsic.sb3 import IntrinsicRewardVecEnv


def main(argv: list[str] | None = None) -> IntrinsicRewardVecEnv:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default="rnd", choices=[m for m in method_names() if m not in ("none", "random")])
    parser.add_argument("--override", action="append", default=[], help="method key=value (repeatable)")
    parser.add_argument("--env", default="MiniGrid-DoorKey-5x5-v0")
    parser.add_argument("--num-envs", type=int, default=8)
    parser.add_argument("--n-steps", type=int, default=128, help="PPO rollout length per env")
    parser.add_argument("--frames", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--save", default=None, help="write the trained method here")
    args = parser.parse_args(argv)

    method = compose_method(args.method, args.override)
    # VecMonitor inside: SB3's ep_rew_mean is the extrinsic return (the task's reward)
    venv = VecMonitor(DummyVecEnv([lambda: make_env(args.env, method) for _ in range(args.num_envs)]))
    venv.seed(args.seed)
    curious = IntrinsicRewardVecEnv(venv, method, train_every=args.n_steps, seed=args.seed)
    # compact grids hold small integer codes, not pixels: no /255 scaling
    model = PPO("MlpPolicy", curious, n_steps=args.n_steps, batch_size=256, seed=args.seed,
                policy_kwargs={"normalize_images": False}, verbose=1)
    model.learn(args.frames)
    print("method training metrics (last rollout):", curious.last_train_metrics)
    if args.save:
        print("saved:", curious.intrinsic.save(args.save))
    return curious


if __name__ == "__main__":
    main()
