"""The four training recipes of part 1, as the coefficients that tell them apart (research/training.md).

SDAR = GRPO + λ·gated distillation (β = 5); GRPO+OPSD is the same with β = 0 (an ungated gate of ½);
OPSD keeps the gated distillation term and drops the policy-gradient term. No torch here: the CLI
validates `--algo` without loading it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

ALGORITHMS = ("grpo", "opsd", "grpo_opsd", "sdar")


class AlgoConfig(BaseModel):
    """Loss coefficients for one update; the defaults are the reference scripts' values."""

    model_config = ConfigDict(frozen=True)

    algo: str = "grpo"
    clip: float = 0.2  # PPO ratio clip
    dual_clip: float = 3.0  # bound on −A·r when A < 0
    entropy_coef: float = 0.001
    kl_coef: float = 0.0  # low-variance KL to the reference (LoRA: the disabled adapter); reference scripts use 0.01
    distill_coef: float = 0.01  # λ of the SDAR term (code default 0.1, every script 0.01)
    beta: float = 5.0  # gate sharpness; forced to 0 for grpo_opsd
    max_grad_norm: float = 1.0
    micro_batch_size: int = 8  # turn samples per forward; gradients accumulate to one optimizer step

    @property
    def pg_coef(self) -> float:
        return 0.0 if self.algo == "opsd" else 1.0

    @property
    def uses_teacher(self) -> bool:
        return self.algo != "grpo"

    @property
    def gate_beta(self) -> float:
        return 0.0 if self.algo == "grpo_opsd" else self.beta
