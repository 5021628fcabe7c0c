"""The predictor inputs' normalizer: its grid-level fast paths equal the plane-level originals."""

import pytest
import torch

from curiosity.envs.encoding import OBS_PLANES, onehot_planes_batched
from curiosity.intrinsic.normalization import ObsNormalizer, RunningMeanStd
from curiosity.intrinsic.transitions import TransitionBatch

H, W = 5, 6


def grids(n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    parts = [torch.randint(0, k, (n, H, W), generator=g) for k in (11, 6, 3, 4)]
    return torch.stack(parts, -1).to(torch.uint8)


def fitted(n_updates: int = 3) -> ObsNormalizer:
    norm = ObsNormalizer((OBS_PLANES, H, W))
    for i in range(n_updates):
        norm.update(onehot_planes_batched(grids(7 + 40 * i, seed=i)))
    return norm


def test_onehot_equals_normalized_planes_bit_for_bit_and_in_layout():
    norm = fitted()
    g = grids(33, seed=9)
    slow, fast = norm(onehot_planes_batched(g)), norm.onehot(g)
    assert torch.equal(fast, slow)
    assert fast.stride() == slow.stride()  # the same channel-last layout: convs see the same input
    assert slow.abs().max() == norm.clip  # the clip was exercised (rare planes of a fitted normalizer)


def test_onehot_of_a_disabled_normalizer_is_the_raw_planes():
    norm = ObsNormalizer((OBS_PLANES, H, W), enabled=False)
    g = grids(4, seed=1)
    assert torch.equal(norm.onehot(g), onehot_planes_batched(g))


def test_onehot_names_a_grid_of_the_wrong_size():
    with pytest.raises(ValueError, match=r"\(B, 5, 6, 4\)"):
        fitted().onehot(grids(2, seed=0)[:, :4])


def test_update_onehot_gives_the_planes_moments():
    by_planes, by_counts = ObsNormalizer((OBS_PLANES, H, W)), ObsNormalizer((OBS_PLANES, H, W))
    for i, n in enumerate((1, 50, 3, 200)):
        g = grids(n, seed=i)
        by_planes.update(onehot_planes_batched(g))
        by_counts.update_onehot(g)
    assert torch.equal(by_counts.rms.count, by_planes.rms.count)
    assert torch.equal(by_counts.rms.mean, by_planes.rms.mean)  # shares of ones: the same doubles
    torch.testing.assert_close(by_counts.rms.var, by_planes.rms.var, rtol=1e-12, atol=1e-15)
    by_counts.update_onehot(grids(0, seed=5))  # an empty batch changes nothing
    assert torch.equal(by_counts.rms.count, by_planes.rms.count)


def test_update_moments_equals_update_on_the_samples():
    x = torch.randn(64, 3, dtype=torch.float64)
    a, b = RunningMeanStd((3,)), RunningMeanStd((3,))
    a.update(x)
    b.update_moments(x.mean(0), x.var(0, unbiased=False), len(x))
    assert torch.equal(a.mean, b.mean) and torch.equal(a.var, b.var) and torch.equal(a.count, b.count)


def test_transition_batch_builds_each_input_on_first_read_only():
    calls = []

    class Counting:
        def __call__(self, planes):
            calls.append(planes.shape[0])
            return planes * 2

    obs, nxt = grids(6, seed=2), grids(6, seed=3)
    batch = TransitionBatch.from_grids(obs, torch.zeros(6, dtype=torch.long), nxt, Counting())
    assert calls == []
    assert torch.equal(batch.next_obs_input, 2 * onehot_planes_batched(nxt))
    assert calls == [6]
    assert batch.next_obs_input is batch.next_obs_input  # kept, not built again
    assert calls == [6]
    rows = batch.index(torch.tensor([0, 4]))
    assert torch.equal(rows.next_obs_input, 2 * onehot_planes_batched(nxt[[0, 4]]))  # indexed, not rebuilt
    assert calls == [6]
    assert torch.equal(rows.obs_input, 2 * onehot_planes_batched(obs[[0, 4]]))  # built for the rows only
    assert calls == [6, 2]


def test_transition_batch_uses_an_obs_normalizers_grid_path():
    norm = fitted()
    obs, nxt = grids(5, seed=4), grids(5, seed=6)
    batch = TransitionBatch.from_grids(obs, torch.zeros(5, dtype=torch.long), nxt, norm)
    assert torch.equal(batch.obs_input, norm(onehot_planes_batched(obs)))
    assert torch.equal(batch.next_obs_input, norm(onehot_planes_batched(nxt)))
