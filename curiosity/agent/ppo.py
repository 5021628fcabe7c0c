"""PPO clipped-objective update over one rollout."""

from __future__ import annotations

import torch
from torch import nn
from torch.distributions import Categorical


def grad_norm_tensor(params) -> torch.Tensor:
    """L2 norm of the gradients of ``params`` as a 0-d tensor (no host sync; 0 when none)."""
    norms = [p.grad.detach().norm(2) for p in params if p.grad is not None]
    return torch.linalg.vector_norm(torch.stack(norms)) if norms else torch.zeros(())


def grad_norm(params) -> float:
    """L2 norm of the gradients of ``params`` (0 when none have a gradient)."""
    return float(grad_norm_tensor(params))


def explained_variance(pred: torch.Tensor, target: torch.Tensor) -> float:
    var = target.var()
    return float("nan") if var == 0 else float(1 - (target - pred).var() / var)


def minibatches(perm: torch.Tensor, num_minibatches: int) -> tuple[torch.Tensor, ...]:
    """``perm`` split into exactly ``min(num_minibatches, len(perm))`` near-equal parts."""
    return torch.tensor_split(perm, max(1, min(num_minibatches, len(perm))))


def ppo_update(agent, optimizer, batch: dict, cfg, use_int_value: bool, generator=None) -> dict:
    """Run ``cfg.update_epochs`` epochs of minibatch PPO on ``batch`` (flat, valid rows only).

    ``batch`` holds obs, actions, logprobs, advantages, returns_ext/int, values_ext/int.
    Returns the metrics of the update (means over minibatches; grad norms before clipping).
    """
    size = batch["actions"].shape[0]

    def minibatch(idx):
        logits, v_ext, v_int = agent(batch["obs"][idx])
        return logits, v_ext, v_int, {k: batch[k][idx] for k in TARGETS}

    return _epochs(agent, optimizer, cfg, use_int_value, size, batch["actions"].device, generator, minibatch)


def ppo_update_recurrent(agent, optimizer, batch: dict, cfg, use_int_value: bool, generator=None) -> dict:
    """PPO for a recurrent policy: each minibatch is whole env sequences.

    ``batch`` holds ``(T, N)`` tensors (obs, the ``TARGETS``, ``valid``, ``episode_start``)
    and ``initial_state`` ``(N, S)``, the state the rollout started from. Every epoch splits
    the N envs into exactly ``cfg.num_minibatches`` groups (so ``num_minibatches`` <= N) and
    replays each group's T steps from its initial state with the rollout's resets
    (``ActorCritic.sequence``), so before the first gradient step the recomputed
    log-probabilities are the rollout's own. Invalid rows pass through the recurrence, as in
    the rollout, and are left out of every loss.
    """
    num_envs = batch["actions"].shape[1]

    def minibatch(envs):
        logits, v_ext, v_int, _ = agent.sequence(batch["obs"][:, envs], batch["initial_state"][envs],
                                                 batch["episode_start"][:, envs])
        keep = batch["valid"][:, envs] > 0
        return logits[keep], v_ext[keep], v_int[keep], {k: batch[k][:, envs][keep] for k in TARGETS}

    return _epochs(agent, optimizer, cfg, use_int_value, num_envs, batch["actions"].device, generator, minibatch)


TARGETS = ("actions", "logprobs", "advantages", "returns_ext", "returns_int", "values_ext", "values_int")


def _epochs(agent, optimizer, cfg, use_int_value, size, device, generator, minibatch) -> dict:
    """The epoch/minibatch loop over ``size`` units (rows or envs); ``minibatch(idx)`` gives
    (logits, V_ext, V_int, targets) of the rows of those units that enter the losses."""
    components = agent.components()
    sums = None  # metric sums kept as one float64 tensor: a single host sync per update
    names: list[str] = []
    count = 0
    stop = False
    for _ in range(cfg.update_epochs):
        perm = torch.randperm(size, device=device, generator=generator)
        # exactly num_minibatches parts of near-equal size (never an extra 1-3 row step
        # when the valid row count is ragged, as on envpool's autoreset rows)
        for idx in minibatches(perm, cfg.num_minibatches):
            logits, v_ext, v_int, mb = minibatch(idx)
            dist = Categorical(logits=logits)
            new_logprob = dist.log_prob(mb["actions"])
            log_ratio = new_logprob - mb["logprobs"]
            ratio = log_ratio.exp()
            with torch.no_grad():
                approx_kl = ((ratio - 1) - log_ratio).mean()
                clip_frac = ((ratio - 1.0).abs() > cfg.clip_coef).float().mean()
            adv = mb["advantages"]
            if cfg.norm_adv and adv.numel() > 1:
                adv = (adv - adv.mean()) / (adv.std() + 1e-8)
            pg_loss = torch.max(
                -adv * ratio, -adv * ratio.clamp(1 - cfg.clip_coef, 1 + cfg.clip_coef)
            ).mean()
            v_loss_ext = _value_loss(v_ext, mb["returns_ext"], mb["values_ext"], cfg)
            v_loss = v_loss_ext
            v_loss_int = torch.zeros((), device=v_ext.device)
            if use_int_value:
                v_loss_int = _value_loss(v_int, mb["returns_int"], mb["values_int"], cfg)
                v_loss = v_loss + v_loss_int
            entropy = dist.entropy().mean()
            loss = pg_loss - cfg.ent_coef * entropy + cfg.vf_coef * v_loss

            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            metrics = {f"grad_norm/{k}": grad_norm_tensor(p) for k, p in components.items()}
            metrics["losses/grad_norm"] = nn.utils.clip_grad_norm_(agent.parameters(), cfg.max_grad_norm)
            optimizer.step()

            metrics.update({
                "losses/policy": pg_loss, "losses/value_ext": v_loss_ext, "losses/value_int": v_loss_int,
                "losses/entropy": entropy, "losses/approx_kl": approx_kl, "losses/clip_frac": clip_frac,
                "losses/total": loss,
            })
            names = list(metrics)
            values = torch.stack([v.detach().to(v_ext.device, torch.float64) for v in metrics.values()])
            sums = values if sums is None else sums + values
            count += 1
            if cfg.target_kl is not None and approx_kl > cfg.target_kl:
                stop = True
                break
        if stop:
            break
    out = {k: v / max(count, 1) for k, v in zip(names, sums.tolist() if sums is not None else [])}
    out["losses/minibatches"] = count
    return out


def _value_loss(pred, returns, old_values, cfg) -> torch.Tensor:
    if not cfg.clip_vloss:
        return 0.5 * ((pred - returns) ** 2).mean()
    clipped = old_values + (pred - old_values).clamp(-cfg.clip_coef, cfg.clip_coef)
    return 0.5 * torch.max((pred - returns) ** 2, (clipped - returns) ** 2).mean()
