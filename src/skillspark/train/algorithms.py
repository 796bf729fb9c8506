"""The training recipes, as the coefficients and switches that tell them apart (research/training.md).

- grpo: multi-turn GRPO (clipped policy gradient, group-normalized turn advantages).
- sdar: GRPO + λ·gated distillation (β = 5, λ = 0.01); grpo_opsd: the same with β = 0 (gate ½);
  opsd: the gated distillation term alone, no policy-gradient term.
- skillsd: GRPO + λ·importance-weighted reverse KL to the skill-conditioned teacher (λ = 0.001).
- rlsd: GRPO whose per-token advantages the teacher rescales, λ decaying 0.5 → 0 over a warm-down.
- skill_grpo: GRPO with the skill in the student's own prompt (no teacher).
No torch here: the CLI validates `--algo` without loading it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

ALGORITHMS = ("grpo", "opsd", "grpo_opsd", "sdar", "skillsd", "rlsd", "skill_grpo")
DISTILL_DEFAULTS = {"opsd": 0.01, "grpo_opsd": 0.01, "sdar": 0.01, "skillsd": 0.001}  # the reference scripts'


class AlgoConfig(BaseModel):
    """Loss coefficients and the update schedule for one batch; the defaults are the reference scripts'
    values (ZJU-REAL/SDAR, examples/*_trainer/run_alfworld_*.sh), each with its reason in
    docs/training-updates.md."""

    model_config = ConfigDict(frozen=True)

    algo: str = "grpo"
    clip: float = 0.2  # PPO ratio clip ε (verl's clip_ratio)
    dual_clip: float = 3.0  # bound on −A·r when A < 0 (verl's clip_ratio_c)
    entropy_coef: float = 0.001
    kl_coef: float = 0.01  # low_var_kl to the reference policy, clamped ±10: the scripts' use_kl_loss, 0.01
    log_kl: bool = False  # compute and log the KL even when kl_coef is 0 (costs a reference forward per batch)
    distill_coef: float | None = None  # λ of the distillation term; None: the algorithm's default above
    beta: float = 5.0  # SDAR gate sharpness; forced to 0 for grpo_opsd
    rlsd_lambda: float = 0.5  # RLSD's initial mixing weight
    rlsd_warmdown: int = 100  # steps over which it decays linearly to 0 (scripts 100, code 50)
    rlsd_eps: float = 0.2
    max_grad_norm: float = 1.0
    micro_batch_size: int = 8  # turn samples per forward; gradients accumulate within a mini-batch
    # turn samples per optimizer step, all processes together: the scripts' 256 per 16 games x 8 episodes is
    # two turn samples per episode, and our default batch is 2 games x 4 episodes; a batch of 64 turn
    # samples then gets 4 optimizer steps, and from the second on the PPO ratio leaves 1 and the clip can bind
    ppo_mini_batch: int = 16
    ppo_epochs: int = 1  # passes over the batch (verl's ppo_epochs, 1 in the reference)
    temperature: float = 1.0  # the sampling temperature: logits are divided by it before log-probs

    @property
    def computes_kl(self) -> bool:
        """Whether a reference forward runs at all: only for a KL in the loss, or when asked to log it."""
        return self.kl_coef > 0 or self.log_kl

    @property
    def pg_coef(self) -> float:
        return 0.0 if self.algo == "opsd" else 1.0

    @property
    def uses_teacher(self) -> bool:
        return self.algo not in ("grpo", "skill_grpo")

    @property
    def skill_in_policy_prompt(self) -> bool:
        return self.algo == "skill_grpo"

    @property
    def distill_weight(self) -> float:
        if self.distill_coef is not None:
            return self.distill_coef
        return DISTILL_DEFAULTS.get(self.algo, 0.0)

    @property
    def gate_beta(self) -> float:
        return 0.0 if self.algo == "grpo_opsd" else self.beta

    def rlsd_lambda_at(self, step: int) -> float:
        """λ_t = λ_0 · max(0, 1 − t / warm-down)."""
        return self.rlsd_lambda * max(0.0, 1.0 - step / max(self.rlsd_warmdown, 1))
