"""What `skillspark tasks check`, `tasks audit` and `tasks vary` are asked to do: one pydantic config each.

Why models and not keyword arguments: each field's default, bounds and `description` are also its flag's
(`params.field_option`), so the command line and the Python API (`skillspark.check_tasks`, ...) cannot
disagree. A config does not read the environment: the commands fill `env` and `jobs_dir` from
`SKILLSPARK_ENV` and `SKILLSPARK_JOBS_DIR`; a script passes them. `GenerateSettings` is `tasks generate`'s.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, field_validator

from skillspark.harbor.envs import LOCAL_ENV
from skillspark.limits import MAX_PARALLELISM, MAX_SEED
from skillspark.llm.models import LOCAL_MODEL
from skillspark.taskgen.calibrate import Calibration, parse_band
from skillspark.taskgen.gates.models import GATE_NAMES, parse_gates

if TYPE_CHECKING:
    from skillspark.llm.budget import Budget
    from skillspark.llm.client import LLMClient

BUDGET_EXIT_CODE = 3  # as `explore`: --resume with a higher --max-cost continues

ENV_HELP = "The Harbor environment tasks run in: local (the bwrap sandbox), docker, daytona, modal, ... or module:Class."
JSON_HELP = "Also write the command's report as JSON to this file."


class GateSettings(BaseModel):
    """Where a task's trials run, and how long they may take: shared by every `tasks` command."""

    env: str = Field(default=LOCAL_ENV, description=ENV_HELP)
    timeout_multiplier: float = Field(default=1.0, ge=0.01, description="Scale every task timeout.")


class TaskBatchSettings(GateSettings):
    """A batch of task folders checked or audited at once, with a report and Harbor trial folders."""

    parallelism: int = Field(default=1, ge=1, le=MAX_PARALLELISM, description="Tasks at once.")
    trials_dir: Path | None = Field(default=None, description=(
        "Where Harbor's trial folders go (default: a new tasks-COMMAND-TIME folder under $SKILLSPARK_JOBS_DIR, "
        "else jobs/)."))
    jobs_dir: Path = Field(default=Path("jobs"), description=(
        "The folder a new tasks-COMMAND-TIME folder goes under when trials_dir is not given."))
    json_path: Path | None = Field(default=None, description=JSON_HELP)

    def run_dir(self, command: str, stamp: str) -> Path:
        """`trials_dir`, else `jobs_dir/tasks-COMMAND-STAMP`."""
        return self.trials_dir or self.jobs_dir / f"tasks-{command}-{stamp}"


class CheckConfig(TaskBatchSettings):
    """`skillspark tasks check`: static checks, build, oracle (must reach 1.0), nop (must stay below)."""

    rerun_failed: bool = Field(default=True, description=(
        "Run a failing oracle whose output names no cause once more, to tell flaky from broken."))


class AuditConfig(TaskBatchSettings):
    """`skillspark tasks audit`: the quality gates on each task."""

    gates: list[str] = Field(default_factory=lambda: list(GATE_NAMES), description=(
        f"Gates to run (repeat; default: all of them: {', '.join(GATE_NAMES)})."))
    references: list[Path] = Field(default_factory=list, description=(
        "A task (or folder of tasks) no audited task may nearly copy (repeat)."))

    @field_validator("gates")
    @classmethod
    def _known_gates(cls, gates: list[str]) -> list[str]:
        return list(parse_gates(gates))  # run order; an unknown name is one UserError line


class VaryConfig(GateSettings):
    """`skillspark tasks vary`: new instances of a generated task, each through every gate but dedup."""

    n: int = Field(default=3, ge=1, description="Instances to make.")
    seed: int = Field(default=0, ge=0, le=MAX_SEED, description="Same seed, same instances, byte for byte.")
    output: Path = Field(default=Path("varied-tasks"), description="Accepted instances go here.")
    model: str | None = Field(default=None, description="Model proposing parameter values (default: seeded draws).")
    api_base: str | None = Field(default=None, description="An OpenAI-compatible endpoint URL for the models.")


class GenerateSettings(GateSettings):
    """What `skillspark tasks generate` (and `skillspark.generate_tasks`) is asked to do, but from which idea.

    Each described field is a flag (its description is the flag's help). `model` and `env` are filled from
    `SKILLSPARK_MODEL` and `SKILLSPARK_ENV` by the command, not here.
    """

    model: str = Field(default=LOCAL_MODEL, description="Model that writes the blueprints.")
    api_base: str | None = Field(default=None, description="An OpenAI-compatible endpoint URL for the models.")
    output: Path = Field(default=Path("generated-tasks"), description=(
        "Accepted tasks go here; rejected ones to OUTPUT/_rejected."))
    n: int = Field(default=1, ge=1, description="Candidate tasks to make from the idea.")
    library: Path | None = Field(default=None, description="Folder of tasks to retrieve references from.")
    reference_tasks: list[Path] = Field(default_factory=list, description="A task to use as reference (repeat).")
    max_rounds: int = Field(default=3, ge=1, description="Blueprint versions per candidate.")
    max_cost_usd: float | None = Field(default=None, ge=0, description=(
        f"Stop model calls once $N is spent in this run (--resume counts earlier spend); exit code {BUDGET_EXIT_CODE}."))
    resume: bool = Field(default=False, description="Continue the latest run of this idea in the output folder.")
    parallelism: int = Field(default=1, ge=1, le=MAX_PARALLELISM, description="Candidates at once.")
    seed: int = Field(default=0, ge=0, le=MAX_SEED, description="Seed of candidate 0 (candidate i gets seed + i).")
    llm_retries: int | None = Field(default=None, ge=0, description=(
        "Retries of a failed model call after the first try (default 4; 0 for local/smollm2)."))
    calibrate: str | None = Field(default=None, description=(
        "Extra gate: a reference agent with this model must pass some but not all trials."))
    calibrate_agent: str | None = Field(default=None, description=(
        "Harbor agent (name or import path) for the calibrate gate instead of ours."))
    calibrate_k: int = Field(default=3, ge=1, description="Trials of the reference agent.")
    calibrate_band: str = Field(default="0.1,0.9", description="Accepted pass rates LOW,HIGH of the reference agent.")
    schema_tries: int = Field(default=2, ge=0)  # extra asks within a round when the answer is not a blueprint
    llm_critique: bool = True
    llm_timeout_s: float | None = None  # None: the model's long_call_timeout_s (600 s embedded, 300 s hosted)
    llm_backoff_s: float = 1.0
    max_tokens: int | None = None  # None: the model's long_reply_max_tokens (4096 embedded, 6000 hosted)

    @field_validator("calibrate_band")
    @classmethod
    def _band(cls, band: str) -> str:
        parse_band(band)  # LOW,HIGH with 0 <= LOW <= HIGH <= 1, else one UserError line
        return band

    def calibration(self) -> Calibration | None:
        """The calibrate gate's settings, when `calibrate` names a model."""
        if self.calibrate is None:
            return None
        low, high = parse_band(self.calibrate_band)
        return Calibration(model=self.calibrate, agent=self.calibrate_agent, k=self.calibrate_k, low=low, high=high,
                           env=self.env, api_base=self.api_base)

    def client(self, budget: Budget) -> LLMClient:
        """The blueprint writer's model client, charging `budget`."""
        from skillspark.llm.client import LLMClient
        from skillspark.llm.models import resolve_model

        resolved = resolve_model(self.model)
        return LLMClient(
            self.model, api_base=self.api_base, budget=budget, temperature=0.2,
            timeout_s=self.llm_timeout_s or resolved.long_call_timeout_s,
            max_retries=self.llm_retries if self.llm_retries is not None else resolved.call_retries,
            max_tokens=self.max_tokens or resolved.long_reply_max_tokens,
            backoff_base_s=self.llm_backoff_s,
        )
