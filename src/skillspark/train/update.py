"""One optimizer step on a batch of turn samples: GRPO's clipped policy gradient plus the teacher's term.

The step is on-policy with one optimizer update per batch (the reference's ppo_epochs = 1 with a
minibatch no smaller than the batch), so the behaviour log-probs are the current ones, detached: the
PPO ratio is 1 and the clip is inert, as in the reference's default setting. Micro-batches accumulate
gradients; every loss keeps the token mean over the whole batch (across processes too), by weighting
each micro-batch's mean by its share of the global response tokens.
"""

from __future__ import annotations

import time
from contextlib import nullcontext

import torch

from skillspark.train.algorithms import AlgoConfig
from skillspark.train.batch import TurnSample, collate, response_logits, token_logprobs
from skillspark.train.losses import (
    entropy_from_logits,
    grpo_turn_advantages,
    low_var_kl,
    ppo_clip_loss,
    rlsd_advantages,
    sdar_loss,
    skillsd_loss,
    token_mean,
)


def _teacher_logprobs(model, samples: list[TurnSample], pad_id: int) -> torch.Tensor:
    """The same model scoring the student's sampled tokens with the skill text in its prompt (an episode
    given no skill, e.g. before the skill bank has any, is scored on its own prompt)."""
    batch = collate([s.teacher_prompt_ids or s.prompt_ids for s in samples], [s.response_ids for s in samples], pad_id)
    with torch.no_grad():
        return token_logprobs(response_logits(model, batch), batch.targets)


def _reference_logprobs(model, batch) -> torch.Tensor:
    """π_ref for the KL term: the LoRA policy with its adapter switched off (free of a second model)."""
    with torch.no_grad(), model.disable_adapter():
        return token_logprobs(response_logits(model, batch), batch.targets)


def _objective(logp, entropy, advantages, teacher_logp, mask, cfg: AlgoConfig, step: int) -> tuple[torch.Tensor, dict[str, float]]:
    """The algorithm's loss on one micro-batch: which terms, with which weights (algorithms.py)."""
    stats: dict[str, float] = {}
    if cfg.algo == "rlsd":  # the teacher rescales each token's credit; no distillation term
        lam = cfg.rlsd_lambda_at(step)
        advantages = rlsd_advantages(advantages, teacher_logp, logp.detach(), lam, cfg.rlsd_eps)
        stats["rlsd_lambda"] = lam
    pg_loss, pg_stats = ppo_clip_loss(logp, logp.detach(), advantages, mask, cfg.clip, cfg.dual_clip)
    loss = cfg.pg_coef * pg_loss - cfg.entropy_coef * entropy
    stats |= {"pg_loss": pg_loss.item(), "entropy": entropy.item(), **pg_stats}
    if teacher_logp is not None:
        stats["delta_mean"] = token_mean((teacher_logp - logp).detach(), mask).item()
    if cfg.algo in ("sdar", "opsd", "grpo_opsd"):
        aux_loss, aux_stats = sdar_loss(logp, teacher_logp, mask, beta=cfg.gate_beta)
    elif cfg.algo == "skillsd":  # on-policy: the behaviour log-probs are the current ones, detached (ρ = 1)
        aux_loss, aux_stats = skillsd_loss(logp, teacher_logp, logp.detach(), mask)
    else:
        return loss, stats
    return loss + cfg.distill_weight * aux_loss, stats | aux_stats | {"aux_loss": aux_loss.item()}


def update_step(
    policy, optimizer, samples: list[TurnSample], cfg: AlgoConfig, *, pad_id: int, accelerator=None, teacher=None, step: int = 0
) -> dict[str, float]:
    """Compute the losses on `samples`, backpropagate in micro-batches, clip, step; return the step's stats.

    `policy` is what accelerate prepared (maybe DDP-wrapped); the teacher and the reference run on the
    unwrapped model without gradients. `teacher` (teacher.TeacherWeights) swaps in the teacher's weights
    for its forward (frozen, EMA or synchronized every N steps); None: the live policy is the teacher.
    """
    if not samples:
        raise ValueError("update_step needs at least one turn sample")
    model = accelerator.unwrap_model(policy) if accelerator is not None else policy
    world = accelerator.num_processes if accelerator is not None else 1
    advantages = grpo_turn_advantages([s.reward for s in samples], [s.group_id for s in samples])
    local_tokens = torch.tensor(float(sum(len(s.response_ids) for s in samples)))
    chunks = [list(range(i, min(i + cfg.micro_batch_size, len(samples)))) for i in range(0, len(samples), cfg.micro_batch_size)]
    global_tokens, rounds = local_tokens, len(chunks)
    if accelerator is not None and world > 1:
        global_tokens = accelerator.reduce(local_tokens, reduction="sum")
        rounds = int(accelerator.gather(torch.tensor([len(chunks)])).max())  # DDP needs equal backward counts

    started = time.perf_counter()
    teacher_logps: list[torch.Tensor | None] = [None] * len(chunks)
    if cfg.uses_teacher:
        with teacher.applied(model) if teacher is not None else nullcontext():
            teacher_logps = [_teacher_logprobs(model, [samples[i] for i in chunk], pad_id) for chunk in chunks]
    teacher_seconds = time.perf_counter() - started

    sums: dict[str, float] = {}
    optimizer.zero_grad(set_to_none=True)
    for round_index in range(rounds):
        # a process with fewer micro-batches repeats its first one with weight 0, so every process syncs alike
        position = round_index if round_index < len(chunks) else 0
        indices, weight = chunks[position], 1.0 if round_index < len(chunks) else 0.0
        chunk = [samples[i] for i in indices]
        batch = collate([s.prompt_ids for s in chunk], [s.response_ids for s in chunk], pad_id)
        mask = batch.response_mask
        share = weight * mask.sum() / global_tokens  # this micro-batch's part of the global token mean

        logits = response_logits(policy, batch)
        logp = token_logprobs(logits, batch.targets)
        entropy = token_mean(entropy_from_logits(logits if cfg.entropy_coef else logits.detach()), mask)
        loss, stats = _objective(logp, entropy, advantages[indices], teacher_logps[position], mask, cfg, step)
        if hasattr(model, "disable_adapter"):  # LoRA: the KL to the base is logged always, in the loss if kl_coef
            kl = low_var_kl(logp, _reference_logprobs(model, batch), mask)
            loss = loss + cfg.kl_coef * kl
            stats["kl"] = kl.item()
        stats["loss"] = loss.item()
        scaled = loss * share * world  # DDP averages gradients over processes; the global mean wants their sum
        if accelerator is not None:
            if round_index < rounds - 1:
                with accelerator.no_sync(policy):
                    accelerator.backward(scaled)
            else:
                accelerator.backward(scaled)
        else:
            scaled.backward()
        for name, value in stats.items():
            sums[name] = sums.get(name, 0.0) + value * float(share) * world

    parameters = [p for p in policy.parameters() if p.requires_grad]
    clip = accelerator.clip_grad_norm_ if accelerator is not None else torch.nn.utils.clip_grad_norm_
    grad_norm = clip(parameters, cfg.max_grad_norm)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    # stats are the local token-weighted means; the trainer averages them over processes
    local_share = float(local_tokens / global_tokens) * world
    means = {name: value / local_share for name, value in sums.items()}
    return means | {
        "grad_norm": float(grad_norm),
        "samples": float(len(samples)),
        "response_tokens": float(local_tokens),
        "advantage_abs_mean": float(advantages.abs().mean()),
        "teacher_forward_s": teacher_seconds,
    }
