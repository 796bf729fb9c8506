"""The training objectives as pure functions, each next to its equation (nanoGPT spirit).

Tensor convention (TRL's): per-token log-probabilities of the sampled tokens, shape (B, T); `mask` (B, T)
is 1 on response tokens and 0 on prompt, environment and padding tokens; every loss is a token mean over
the whole batch, Σ mask·x / Σ mask. Each loss returns `(loss, stats)`, stats being detached floats for
the metrics. Defaults are the reference code's (ZJU-REAL/SDAR, verl-agent); see research/training.md.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import torch

Stats = dict[str, float]


def token_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Σ mask·x / Σ mask: every response token of the batch weighs the same (verl's "token-mean")."""
    return (values * mask).sum() / mask.sum().clamp_min(1.0)


def grpo_turn_advantages(
    rewards: Sequence[float] | torch.Tensor, group_ids: Sequence[Hashable] | torch.Tensor, eps: float = 1e-6
) -> torch.Tensor:
    """Multi-turn GRPO: A_i = (r_i − mean_g) / (std_g + ε) over all turn samples of group g.

    One sample per active turn, each carrying its episode's reward; std is the unbiased one. A group of one
    sample uses mean 0 and std 1, as the reference does (core_algos.compute_grpo_outcome_advantage), so
    its advantage is r / (1 + ε) ≈ r. Group ids may be any hashable values or a 1-D tensor (compared by
    value: a tensor's elements would otherwise each hash as a group of their own).
    """
    rewards = torch.as_tensor(rewards, dtype=torch.float32)
    if isinstance(group_ids, torch.Tensor):
        if group_ids.dim() != 1:
            raise ValueError(f"group_ids: a tensor of group ids must be 1-D, got shape {tuple(group_ids.shape)}")
        group_ids = group_ids.tolist()
    if len(group_ids) != len(rewards):
        raise ValueError(f"group_ids: {len(group_ids)} ids for {len(rewards)} rewards; give one id per reward")
    members: dict[Hashable, list[int]] = {}
    for index, group in enumerate(group_ids):
        if not isinstance(group, Hashable):
            raise TypeError(f"group_ids[{index}]: {type(group).__name__} is not hashable; use str, int or a 1-D tensor")
        members.setdefault(group, []).append(index)
    advantages = torch.empty_like(rewards)
    for indices in members.values():
        group_rewards = rewards[indices]
        if len(indices) == 1:
            mean, std = torch.tensor(0.0), torch.tensor(1.0)
        else:
            mean, std = group_rewards.mean(), group_rewards.std(unbiased=True)
        advantages[indices] = (group_rewards - mean) / (std + eps)
    return advantages


def ppo_clip_loss(
    logp: torch.Tensor,
    old_logp: torch.Tensor,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    clip: float = 0.2,
    dual_clip: float = 3.0,
) -> tuple[torch.Tensor, Stats]:
    """PPO's clipped surrogate with the dual clip for negative advantages (verl's compute_policy_loss).

    r = exp(logp − old); L1 = max(−A·r, −A·clip(r, 1−c, 1+c)); where A < 0: L = min(L1, −A·dual_clip).
    `advantages` is (B,) (one per sample, broadcast over its tokens) or (B, T).
    """
    if advantages.dim() == 1:
        advantages = advantages.unsqueeze(1).expand_as(logp)
    ratio = torch.exp(logp - old_logp)
    unclipped = -advantages * ratio
    clipped = -advantages * torch.clamp(ratio, 1.0 - clip, 1.0 + clip)
    surrogate = torch.maximum(unclipped, clipped)
    dual = torch.minimum(surrogate, -advantages * dual_clip)
    per_token = torch.where(advantages < 0, dual, surrogate)
    clip_frac = token_mean((clipped > unclipped).float(), mask)  # verl's pg_clipfrac: the clipped term was chosen
    ppo_kl = token_mean(old_logp - logp, mask)  # how far the policy has moved from the sampler (verl's ppo_kl)
    return token_mean(per_token, mask), {"clip_frac": clip_frac.item(), "ppo_kl": ppo_kl.detach().item()}


def low_var_kl(logp: torch.Tensor, ref_logp: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Schulman's k3 estimator of KL(π‖π_ref): exp(ref − logp) − (ref − logp) − 1, clamped to ±10."""
    log_ratio = ref_logp - logp
    kl = torch.exp(log_ratio) - log_ratio - 1.0
    return token_mean(torch.clamp(kl, -10.0, 10.0), mask)


def entropy_from_logits(logits: torch.Tensor) -> torch.Tensor:
    """Per-token entropy −Σ_v p_v log p_v of the policy's next-token distribution, shape (B, T)."""
    log_probs = torch.log_softmax(logits.float(), dim=-1)
    return -(log_probs.exp() * log_probs).sum(dim=-1)


def sdar_loss(
    student_logp: torch.Tensor, teacher_logp: torch.Tensor, mask: torch.Tensor, beta: float = 5.0
) -> tuple[torch.Tensor, Stats]:
    """SDAR's gated self-distillation term (seed 002): L = token_mean(g · (sg(T) − S)).

    Δ = sg(T) − sg(S) and g = sg(σ(β·Δ)): the gate opens where the skill-conditioned teacher likes the
    sampled token more than the student does, so the gradient −g·∇S pulls only those tokens up.
    β = 0 gives g = ½ everywhere (GRPO+OPSD): the gradient no longer depends on the teacher.
    """
    delta = (teacher_logp - student_logp).detach()
    gate = torch.sigmoid(beta * delta).detach()
    loss = token_mean(gate * (teacher_logp.detach() - student_logp), mask)
    return loss, {
        "distill_grad_abs": token_mean(gate, mask).item(),  # |∂(per-token term)/∂S| = g
        "gate_mean": token_mean(gate, mask).item(),
        "gate_open_share": token_mean((gate > 0.5).float(), mask).item(),
        "delta_mean": token_mean(delta, mask).item(),
    }


def skillsd_loss(
    student_logp: torch.Tensor, teacher_logp: torch.Tensor, old_logp: torch.Tensor, mask: torch.Tensor
) -> tuple[torch.Tensor, Stats]:
    """Skill-SD's importance-weighted reverse KL on sampled tokens (seed 003).

    ℓ = S − sg(T); k3 = exp(−ℓ) − 1 + ℓ (exponent capped at 20); ρ = exp(min(S − sg(O), 10)), and ρ
    carries gradient (as in the reference code), so ∂/∂S (ρ·k3) = ρ·(k3 + 1 − exp(−ℓ)) (caps aside).
    """
    log_ratio = student_logp - teacher_logp.detach()
    k3 = torch.exp(torch.clamp(-log_ratio, max=20.0)) - 1.0 + log_ratio
    rho = torch.exp(torch.clamp(student_logp - old_logp.detach(), max=10.0))
    loss = token_mean(rho * k3, mask)
    grad = (rho * (k3 + 1.0 - torch.exp(torch.clamp(-log_ratio, max=20.0)))).detach()
    return loss, {
        "distill_grad_abs": token_mean(grad.abs(), mask).item(),
        "k3_mean": token_mean(k3, mask).item(),
        "rho_mean": token_mean(rho, mask).item(),
    }


def rlsd_advantages(
    advantages: torch.Tensor, teacher_logp: torch.Tensor, old_logp: torch.Tensor, lam: float, eps: float = 0.2
) -> torch.Tensor:
    """RLSD's per-token reweighting: Â_t = A·[(1 − λ) + λ·clip(exp(sign(A)·(T − O)), 1 − ε, 1 + ε)].

    `advantages` is (B,), the result (B, T); the teacher only rescales credit, it never flips its sign.
    """
    sign = torch.sign(advantages).unsqueeze(1)
    weight = torch.clamp(torch.exp(sign * (teacher_logp - old_logp).detach()), 1.0 - eps, 1.0 + eps)
    return advantages.unsqueeze(1) * ((1.0 - lam) + lam * weight)
