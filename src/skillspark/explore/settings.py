"""The settings of an exploration: what `skillspark explore` builds from its flags and `skillspark.explore_skills`
takes. Each field's description is its flag's help (`params.field_option`), so the two share one default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, BaseModel, Field

from skillspark.limits import MAX_PARALLELISM
from skillspark.pdi.text import Method


class ExploreSettings(BaseModel):
    """Knobs of `skillspark explore`: the config of `skillspark.explore_skills` (and of the demo's exploration)."""

    model: str = Field(description="Teacher model (agent and distiller).")
    summary_model: str | None = Field(default=None, description="Model that rewrites the memo (default: --model).")
    api_base: str | None = Field(default=None, description="OpenAI-compatible base URL for the models.")
    max_attempts: int = Field(default=3, ge=1, description="Attempts per task (the first try counts).",
                              validation_alias=AliasChoices("max_attempts", "max_retries"))
    parallelism: int = Field(default=1, ge=1, le=MAX_PARALLELISM, description="Tasks explored at once.")
    pdi: bool = Field(default=True, description="Online PDI proxy and interventions.")
    pdi_observe_only: bool = Field(default=False, description="Log PDI snapshots but never intervene.")
    pdi_method: Method = Field(default="token_overlap", description="The PDI similarity: token_overlap or js_divergence.")
    timeout_multiplier: float = Field(default=1.0, ge=0.01, description="Scale the tasks' timeouts.")
    resume: bool = Field(default=False, description="Continue a previous run in --output.")
    output: Path = Field(default=Path("explore-out"), description="Output folder (one subfolder per task).")
    env: str = Field(default="local", description="Environment: local (bwrap sandbox), docker, daytona, modal, ...")
    memo_tries: int = 3
    distill_tries: int = 2
    llm_timeout_s: float | None = Field(default=None, ge=1, description=(
        "Seconds per summarizer/distiller call (default: the model's own, 120; 60 for local/smollm2)."))
    llm_retries: int | None = Field(default=None, ge=0, description=(
        "Retries of a failed summarizer/distiller call (default: the model's own, 4; 0 for local/smollm2)."))
    memo_style: Literal["auto", "whole", "sections"] = "auto"  # auto: sections for the embedded model
    # the redacted test file in retry prompts; None: not for the embedded model, which copies its Python
    # source instead of replying with a bash block (measured: every reply a format error)
    show_verifier: bool | None = None
    agent_kwargs: dict = Field(default_factory=dict)
    max_cost_usd: float | None = Field(default=None, ge=0, description=(
        "Stop all model calls (agent, summarizer, distiller) once $N is spent in this output folder "
        "(--resume counts earlier spend)."))
    shuffle_seed: int | None = None  # the seed of the --shuffle order (recorded so a run can be repeated)
    tasks: list[str] | None = None  # only the tasks of these names, in this order
    limit: int | None = Field(default=None, ge=1, description="Explore at most N tasks.")

    @property
    def summarizer_model(self) -> str:
        return self.summary_model or self.model

    def llm_limits(self, model: str) -> dict[str, float | int]:
        """Timeout and retries of the summarizer/distiller calls to `model`: the flags, else the model's own."""
        from skillspark.llm.models import resolve_model

        resolved = resolve_model(model)
        timeout = self.llm_timeout_s if self.llm_timeout_s is not None else resolved.call_timeout_s
        retries = self.llm_retries if self.llm_retries is not None else resolved.call_retries
        return {"timeout_s": timeout, "max_retries": retries}

    def verifier_in_prompt(self) -> bool:
        from skillspark.llm.models import resolve_model

        return self.show_verifier if self.show_verifier is not None else resolve_model(self.model).reads_verifier_source

    def sectioned_memo(self) -> bool:
        from skillspark.llm.models import resolve_model

        return self.memo_style == "sections" or (
            self.memo_style == "auto" and resolve_model(self.summarizer_model).writes_memo_by_section)
