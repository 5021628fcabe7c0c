"""Issue 29: the vectorized ``CountBonus.score_rollout`` against the row-by-row loop it
replaced: the same float32 scores bit for bit and the same memory dicts (contents and
insertion order) after every rollout, in both modes, memory carried across rollouts."""


import gymnasium as gym
import numpy as np
import pytest
import torch

from baselines.count import CountBonus
from curiosity.intrinsic.rollout import Rollout

SPACE = gym.spaces.Box(0, 10, (3, 3, 4), dtype=np.uint8)
ACTIONS = gym.spaces.Discrete(7)


def _score_reference(module: CountBonus, rollout: Rollout) -> torch.Tensor:
    """The loop ``score_rollout`` was before issue 29: one dict operation per row, t-major."""
    keys = module.rollout_keys(rollout).cpu().tolist()
    starts = rollout.episode_start.cpu().tolist()
    valid = rollout.valid.cpu().tolist()
    out = torch.zeros(rollout.num_steps, rollout.num_envs)
    for t in range(rollout.num_steps):
        for n in range(rollout.num_envs):
            if starts[t][n]:
                module.episodic[n].clear()
            if not valid[t][n]:
                continue
            k = keys[t][n]
            memory = module.episodic[n] if module.mode == "episodic" else module.lifelong
            memory[k] = memory.get(k, 0) + 1
            out[t, n] = memory[k] ** -0.5
    return out.to(rollout.action.device)


def keyed_rollout(keys: torch.Tensor, starts: torch.Tensor, valid: torch.Tensor) -> Rollout:
    """A (T, N) rollout whose exact-state key (``key=state``) at (t, n) is ``keys[t, n]``."""
    t, n = keys.shape
    z = torch.zeros(t, n, dtype=torch.bool)
    grids = torch.zeros(t, n, 3, 3, 4, dtype=torch.uint8)
    minus = torch.full((t, n), -1)
    return Rollout(obs=grids, next_obs=grids, action=torch.zeros(t, n, dtype=torch.long),
                   terminated=z, truncated=z, done=z, valid=valid, episode_start=starts,
                   agent_x=minus, agent_y=minus, agent_dir=minus, carrying=minus,
                   state_key=keys.long())


def random_rollout(g: torch.Generator, t: int, n: int, alphabet: int, p_start: float = 0.1,
                   p_invalid: float = 0.1, first: bool = False) -> Rollout:
    # keys spread over int64 (hash-like) but drawn from a small alphabet, the same in every
    # rollout of a test, so repeats happen within and across rollouts
    values = torch.randint(0, 2**62, (alphabet,), generator=torch.Generator().manual_seed(alphabet))
    keys = values[torch.randint(0, alphabet, (t, n), generator=g)]
    starts = torch.rand(t, n, generator=g) < p_start
    if first:
        starts[0] = True
    valid = torch.rand(t, n, generator=g) >= p_invalid
    keys = torch.where(valid, keys, torch.full_like(keys, -1))  # as an invalid row reports
    return keyed_rollout(keys, starts, valid)


def memory(m: CountBonus) -> tuple:
    return [list(d.items()) for d in m.episodic], list(m.lifelong.items())


def assert_same(new: CountBonus, ref: CountBonus, rollout: Rollout) -> None:
    got = new.score_rollout(rollout)
    want = _score_reference(ref, rollout)
    assert got.dtype == want.dtype and got.shape == want.shape
    assert torch.equal(got, want)  # bit for bit
    assert memory(new) == memory(ref)  # contents and insertion order
    assert new.get_extra_state() == ref.get_extra_state()


@pytest.mark.parametrize("mode", ["episodic", "lifelong"])
@pytest.mark.parametrize("t,n", [(1, 1), (1, 5), (7, 1), (16, 4), (128, 16)])
@pytest.mark.parametrize("alphabet", [1, 3, 40])
def test_matches_the_loop_over_consecutive_rollouts(mode, t, n, alphabet):
    g = torch.Generator().manual_seed(t * 1000 + n * 10 + alphabet)
    new = CountBonus(SPACE, ACTIONS, mode=mode, key="state", num_envs=n)
    ref = CountBonus(SPACE, ACTIONS, mode=mode, key="state", num_envs=n)
    for i in range(6):
        p_start = [0.0, 0.05, 0.3, 1.0, 0.1, 0.0][i]
        p_invalid = [0.0, 0.1, 0.5, 0.1, 1.0, 0.2][i]
        assert_same(new, ref, random_rollout(g, t, n, alphabet, p_start, p_invalid, first=i == 0))


@pytest.mark.parametrize("mode", ["episodic", "lifelong"])
def test_an_episode_spanning_whole_rollouts_keeps_counting(mode):
    g = torch.Generator().manual_seed(3)
    new = CountBonus(SPACE, ACTIONS, mode=mode, key="state", num_envs=3)
    ref = CountBonus(SPACE, ACTIONS, mode=mode, key="state", num_envs=3)
    assert_same(new, ref, random_rollout(g, 20, 3, 2, p_start=0.0, p_invalid=0.0, first=True))
    for _ in range(3):  # no starts at all: every env's episode continues through the rollout
        assert_same(new, ref, random_rollout(g, 20, 3, 2, p_start=0.0, p_invalid=0.2))
    # the counts carried in grow past one rollout's length
    assert max(max(d.values()) for d in new.episodic + [new.lifelong] if d) > 20


def test_a_start_on_an_invalid_row_still_clears_and_late_starts_restart():
    keys = torch.tensor([[7, 7], [7, 7], [7, 7], [7, 7]])
    starts = torch.tensor([[True, True], [False, True], [False, False], [True, False]])
    valid = torch.tensor([[True, True], [True, False], [True, True], [False, True]])
    for mode in ("episodic", "lifelong"):
        new = CountBonus(SPACE, ACTIONS, mode=mode, key="state", num_envs=2)
        ref = CountBonus(SPACE, ACTIONS, mode=mode, key="state", num_envs=2)
        assert_same(new, ref, keyed_rollout(keys, starts, valid))
        assert_same(new, ref, keyed_rollout(keys, torch.zeros_like(starts), valid))


def test_state_loaded_from_a_checkpoint_is_continued_the_same():
    g = torch.Generator().manual_seed(5)
    for mode in ("episodic", "lifelong"):
        new = CountBonus(SPACE, ACTIONS, mode=mode, key="state", num_envs=4)
        ref = CountBonus(SPACE, ACTIONS, mode=mode, key="state", num_envs=4)
        warm = random_rollout(g, 30, 4, 6, first=True)
        _score_reference(ref, warm)
        state = ref.get_extra_state()
        state["episodic"][0][123] = 10**9  # a large count carried in, and a key not seen here
        ref.set_extra_state(state)
        new.set_extra_state(state)
        for _ in range(3):
            assert_same(new, ref, random_rollout(g, 30, 4, 6))
