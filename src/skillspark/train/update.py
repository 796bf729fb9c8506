"""The update on one rollout batch, as the reference makes it: PPO mini-batch steps against fixed log-probs.

Once per batch, without gradients (the reference's compute_log_prob, ref and teacher passes): the
behaviour log-probs O of the policy as it sampled (skipped when the batch gets a single optimizer step,
where O equals the live log-probs), the teacher's T on the samples that have a skill, and the reference
policy's for the KL (only when the KL is computed). Then `ppo_epochs` passes over the batch, each split
into mini-batches of about `ppo_mini_batch` turn samples (all processes together), one optimizer step
each: from the second step on the ratio exp(S − O) leaves 1 and PPO's clip can bind. Micro-batches
accumulate gradients within a mini-batch; each term is a token mean over its mini-batch across processes
(each micro-batch's mean weighted by its share of the tokens). Distillation terms average over the tokens
of samples that have a skill only: an episode given no skill has no teacher and is masked out of them.
"""

from __future__ import annotations

import math
import time
from contextlib import nullcontext
from dataclasses import dataclass

import torch

from skillspark.train.algorithms import AlgoConfig
from skillspark.train.sharding import clip_grad_norm, full_weights, is_sharded
from skillspark.train.batch import TurnSample, collate, response_logits, response_rows, response_values, token_logprobs
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


@dataclass(frozen=True)
class FixedLogprobs:
    """Per-sample response log-probs computed once per batch, before any optimizer step."""

    old: list[torch.Tensor] | None  # behaviour policy; None: one optimizer step, the live ones detached
    teacher: list[torch.Tensor | None]  # the skill-conditioned teacher; None for a sample without a skill
    reference: list[torch.Tensor] | None  # π_ref for the KL; None when the KL is not computed


class Means:
    """Weighted means of named floats, Σ w·x / Σ w (0 where nothing was weighed, so keys never vanish)."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = {}
        self.weights: dict[str, float] = {}

    def add(self, values: dict[str, float], weight: float) -> None:
        for name, value in values.items():
            self.sums[name] = self.sums.get(name, 0.0) + value * weight
            self.weights[name] = self.weights.get(name, 0.0) + weight

    def means(self) -> dict[str, float]:
        return {name: total / self.weights[name] if self.weights[name] else 0.0 for name, total in self.sums.items()}


def _score(model, prompts: list[list[int]], samples: list[TurnSample], pad_id: int, micro: int, temperature: float) -> list[torch.Tensor]:
    """log π(response | prompt) of each sample, no gradient, micro-batch by micro-batch (a sharded model's
    weights gathered once: each process scores its own number of samples)."""
    values: list[torch.Tensor] = []
    with full_weights(model), torch.no_grad():
        for start in range(0, len(samples), micro):
            responses = [s.response_ids for s in samples[start : start + micro]]
            batch = collate(prompts[start : start + micro], responses, pad_id)
            logp = token_logprobs(response_logits(model, batch, temperature), batch.targets)
            values += response_values(logp, responses)
    return values


def reference_scope(model, reference):
    """π_ref's weights for the block: `reference.applied` (a frozen copy of the starting weights) or, for a
    LoRA policy, its adapter switched off (the same base, free of a copy)."""
    if reference is not None:
        return reference.applied(model)
    if hasattr(model, "disable_adapter"):
        return model.disable_adapter()
    raise ValueError("the KL needs a reference policy: pass `reference` (full weights) or train with LoRA")


def fixed_logprobs(model, samples: list[TurnSample], cfg: AlgoConfig, *, pad_id: int, several_steps: bool, teacher=None, reference=None, planted=None) -> FixedLogprobs:
    """The rollout-time quantities every optimizer step of the batch compares against; `planted`
    (planted.PlantedTeacher) replaces the skill-conditioned teacher by the planted one."""
    micro, temperature = cfg.micro_batch_size, cfg.temperature
    student_prompts = [s.prompt_ids for s in samples]
    old = _score(model, student_prompts, samples, pad_id, micro, temperature) if several_steps else None
    teacher_logps: list[torch.Tensor | None] = [None] * len(samples)
    skilled = [i for i, s in enumerate(samples) if s.teacher_prompt_ids is not None] if cfg.uses_teacher else []
    if skilled:
        chosen = [samples[i] for i in skilled]
        with teacher.applied(model) if teacher is not None else nullcontext():
            if planted is not None:  # the planted control: the student's prompt and logits, plus a known boost
                with full_weights(model):
                    scored = planted.score(model, chosen, pad_id, micro, temperature)
            else:
                scored = _score(model, [s.teacher_prompt_ids for s in chosen], chosen, pad_id, micro, temperature)
        for index, value in zip(skilled, scored):
            teacher_logps[index] = value
    ref = None
    if cfg.computes_kl:
        with reference_scope(model, reference):
            ref = _score(model, student_prompts, samples, pad_id, micro, temperature)
    return FixedLogprobs(old, teacher_logps, ref)


def _objective(logp, old, advantages, teacher_logp, mask, skill_mask, cfg: AlgoConfig, step: int):
    """The algorithm's terms on one micro-batch: (policy part, distillation part, their stats).

    The policy part is a token mean over `mask`, the distillation part over `skill_mask` (the tokens of
    samples that have a skill); `teacher_logp` holds O on rows without a skill, which makes RLSD's weight 1.
    """
    token_stats: dict[str, float] = {}
    skill_stats: dict[str, float] = {}
    token_advantages = advantages.unsqueeze(1).expand_as(logp)
    if teacher_logp is not None:
        skill_stats["delta_mean"] = token_mean((teacher_logp - logp).detach(), skill_mask).item()
        skill_stats["advantage_abs"] = token_mean(token_advantages.abs(), skill_mask).item()
    if cfg.algo == "rlsd":  # the teacher rescales each token's credit; no distillation term
        lam = cfg.rlsd_lambda_at(step)
        weighted = rlsd_advantages(advantages, teacher_logp, old, lam, cfg.rlsd_eps)
        skill_stats["teacher_grad_abs"] = token_mean((weighted - token_advantages).abs(), skill_mask).item()
        token_stats["rlsd_lambda"] = lam
        token_advantages = weighted
    pg_loss, pg_stats = ppo_clip_loss(logp, old, token_advantages, mask, cfg.clip, cfg.dual_clip)
    token_stats |= {"pg_loss": pg_loss.item(), **pg_stats}
    if cfg.algo in ("sdar", "opsd", "grpo_opsd"):
        aux_loss, aux_stats = sdar_loss(logp, teacher_logp, skill_mask, beta=cfg.gate_beta)
    elif cfg.algo == "skillsd":  # ρ = exp(S − sg(O)): 1 in the first step, then the drift since rollout
        aux_loss, aux_stats = skillsd_loss(logp, teacher_logp, old, skill_mask)
    else:
        return cfg.pg_coef * pg_loss, None, token_stats, skill_stats
    grad_abs = aux_stats.pop("distill_grad_abs")
    skill_stats |= aux_stats | {"aux_loss": aux_loss.item(), "teacher_grad_abs": cfg.distill_weight * grad_abs}
    return cfg.pg_coef * pg_loss, aux_loss, token_stats, skill_stats


@dataclass(frozen=True)
class Plan:
    """Which local samples each optimizer step uses, and the counts every process must agree on."""

    parts: list[list[list[int]]]  # per mini-batch: its micro-batches of local sample indices
    rounds: list[int]  # per mini-batch: backward passes (the largest micro-batch count over processes)
    tokens: list[float]  # per mini-batch: response tokens over all processes
    skill_tokens: list[float]  # per mini-batch: response tokens of samples with a skill, all processes


def plan_minibatches(samples: list[TurnSample], cfg: AlgoConfig, accelerator=None) -> Plan:
    """Split the batch into ⌈all processes' samples / ppo_mini_batch⌉ mini-batches, in order (no shuffle,
    as the reference's split); each process cuts its own samples into that many near-equal parts."""
    distributed = accelerator is not None and accelerator.num_processes > 1
    total = len(samples)
    if distributed:  # collectives on the accelerator's device (NCCL takes no CPU tensors)
        total = int(accelerator.reduce(torch.tensor([float(total)], device=accelerator.device), reduction="sum").item())
    count = max(1, math.ceil(total / cfg.ppo_mini_batch))
    parts = [part.tolist() for part in torch.tensor_split(torch.arange(len(samples)), count)]
    micro = cfg.micro_batch_size
    chunked = [[part[i : i + micro] for i in range(0, len(part), micro)] for part in parts]
    has_skill = [cfg.uses_teacher and s.teacher_prompt_ids is not None for s in samples]
    tokens = torch.tensor([float(sum(len(samples[i].response_ids) for i in part)) for part in parts])
    skill_tokens = torch.tensor([float(sum(len(samples[i].response_ids) for i in part if has_skill[i])) for part in parts])
    rounds = torch.tensor([max(len(c), 1) for c in chunked])
    if distributed:
        device = accelerator.device
        tokens = accelerator.reduce(tokens.to(device), reduction="sum").cpu()
        skill_tokens = accelerator.reduce(skill_tokens.to(device), reduction="sum").cpu()
        rounds = accelerator.gather(rounds.to(device)).cpu().reshape(-1, count).max(dim=0).values  # DDP: equal backward counts
    return Plan(chunked, [int(r) for r in rounds], tokens.tolist(), skill_tokens.tolist())


def update_step(
    policy, optimizer, samples: list[TurnSample], cfg: AlgoConfig, *, pad_id: int, accelerator=None, teacher=None,
    reference=None, step: int = 0, planted=None,
) -> dict[str, float]:
    """Run the batch's optimizer steps (ppo_epochs × mini-batches); return the step's stats.

    `policy` is what accelerate prepared (maybe DDP-wrapped); the teacher and the reference score on the
    unwrapped model without gradients. `teacher` (teacher.TeacherWeights) swaps in the teacher's weights
    (frozen, EMA or synchronized every N steps); None: the live policy is the teacher. `reference` swaps in
    π_ref's (a frozen TeacherWeights of the starting weights); None: a LoRA policy's disabled adapter.
    `planted` (planted.PlantedTeacher): the teacher's log-probs are the planted control's (a known boost).
    Stats are this process's means over the optimizer steps; the trainer averages them over processes.
    """
    if not samples:
        raise ValueError("update_step needs at least one turn sample")
    model = accelerator.unwrap_model(policy) if accelerator is not None else policy
    world = accelerator.num_processes if accelerator is not None else 1
    advantages = grpo_turn_advantages([s.reward for s in samples], [s.group_id for s in samples])
    plan = plan_minibatches(samples, cfg, accelerator)
    optimizer_steps = cfg.ppo_epochs * len(plan.parts)

    started = time.perf_counter()
    fixed = fixed_logprobs(
        model, samples, cfg, pad_id=pad_id, several_steps=optimizer_steps > 1, teacher=teacher, reference=reference, planted=planted
    )
    fixed_seconds = time.perf_counter() - started

    run = Means()
    for _ in range(cfg.ppo_epochs):
        for part, rounds, tokens, skill_tokens in zip(plan.parts, plan.rounds, plan.tokens, plan.skill_tokens):
            step_stats = _minibatch_step(policy, optimizer, samples, part, rounds, tokens, skill_tokens, advantages, fixed, cfg, pad_id, accelerator, world, step)
            run.add({k: v for k, v in step_stats.items() if not k.startswith("skill:")}, 1.0)
            run.add({k.removeprefix("skill:"): v for k, v in step_stats.items() if k.startswith("skill:")}, step_stats["skill_weight"])
    stats = run.means()
    stats.pop("skill_weight")
    skillless = [s for s in samples if s.teacher_prompt_ids is None] if cfg.uses_teacher else []
    return stats | {
        "optimizer_steps": float(optimizer_steps),
        "samples": float(len(samples)),
        "response_tokens": float(sum(len(s.response_ids) for s in samples)),
        "advantage_abs_mean": float(advantages.abs().mean()),
        "teacher_forward_s": fixed_seconds,
        **({"skillless_samples": float(len(skillless)), "skillless_episodes": float(len({s.episode_id for s in skillless})),
            "teacher_truncated": float(sum(s.teacher_truncated for s in samples))} if cfg.uses_teacher else {}),
    }


def _minibatch_step(policy, optimizer, samples, part, rounds, tokens, skill_tokens, advantages, fixed: FixedLogprobs, cfg: AlgoConfig, pad_id, accelerator, world, step) -> dict[str, float]:
    """One optimizer step on one mini-batch: micro-batch forwards and backwards, clip, step.

    A process with fewer micro-batches than `rounds` repeats one with weight 0, so all processes sync alike.
    Returns the step's local token means; keys prefixed "skill:" average over the skill tokens only.
    """
    local_tokens = sum(len(samples[i].response_ids) for chunk in part for i in chunk)
    local_skill = sum(len(samples[i].response_ids) for chunk in part for i in chunk if cfg.uses_teacher and samples[i].teacher_prompt_ids is not None)
    token_means, skill_means = Means(), Means()
    loss_value = 0.0
    optimizer.zero_grad(set_to_none=True)
    for round_index in range(rounds):
        real = round_index < len(part)
        indices = part[round_index] if real else (part[0] if part else [0])
        chunk = [samples[i] for i in indices]
        batch = collate([s.prompt_ids for s in chunk], [s.response_ids for s in chunk], pad_id)
        logits = response_logits(policy, batch, cfg.temperature)
        logp = token_logprobs(logits, batch.targets)
        device, window = logp.device, batch.response_window
        has_skill = torch.tensor([cfg.uses_teacher and s.teacher_prompt_ids is not None for s in chunk], device=device).unsqueeze(1)
        mask = batch.response_mask.to(device)
        skill_mask = mask * has_skill
        old = response_rows([fixed.old[i] for i in indices], window).to(device) if fixed.old is not None else logp.detach()
        teacher_logp = None
        if cfg.uses_teacher:  # rows without a skill hold O: masked out of distillation, weight 1 in RLSD
            rows = [fixed.teacher[i] if fixed.teacher[i] is not None else torch.zeros(0) for i in indices]
            teacher_logp = torch.where(has_skill, response_rows(rows, window).to(device), old)
        entropy = token_mean(entropy_from_logits(logits if cfg.entropy_coef else logits.detach()), mask)
        policy_part, aux_loss, token_stats, skill_stats = _objective(logp, old, advantages[indices].to(device), teacher_logp, mask, skill_mask, cfg, step)
        policy_part = policy_part - cfg.entropy_coef * entropy
        token_stats["entropy"] = entropy.item()
        if fixed.reference is not None:
            kl = low_var_kl(logp, response_rows([fixed.reference[i] for i in indices], window).to(device), mask)
            policy_part = policy_part + cfg.kl_coef * kl
            token_stats["kl"] = kl.item()

        weight = 1.0 if real else 0.0
        n, d = float(mask.sum()) * weight, float(skill_mask.sum()) * weight
        loss = policy_part * (n / tokens)
        local_loss = policy_part.item() * (n / local_tokens if local_tokens else 0.0)
        if aux_loss is not None and skill_tokens > 0:
            loss = loss + cfg.distill_weight * aux_loss * (d / skill_tokens)
            local_loss += cfg.distill_weight * aux_loss.item() * (d / local_skill if local_skill else 0.0)
        loss_value += local_loss
        scaled = loss * world  # DDP and FSDP average gradients over processes; the mini-batch's token mean wants their sum
        if accelerator is None or is_sharded(policy):  # FSDP reduce-scatters at every backward
            scaled.backward()
        elif round_index < rounds - 1:
            with accelerator.no_sync(policy):
                accelerator.backward(scaled)
        else:
            accelerator.backward(scaled)
        token_means.add(token_stats, n)
        skill_means.add(skill_stats, d)

    parameters = [p for p in policy.parameters() if p.requires_grad]
    clip = accelerator.clip_grad_norm_ if accelerator is not None and not is_sharded(policy) else clip_grad_norm
    grad_norm = clip(parameters, cfg.max_grad_norm)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    skill = {f"skill:{name}": value for name, value in skill_means.means().items()}
    return token_means.means() | skill | {"loss": loss_value, "grad_norm": float(grad_norm), "skill_weight": 1.0 if local_skill else 0.0}
