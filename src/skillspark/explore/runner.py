"""Running one attempt of a task: the loop only needs `AttemptRunner.run(task, attempt, extra_prompt)`.

`HarborAttemptRunner` is the real one: a Harbor trial of the skillspark bash agent in the chosen
environment, started by the trial runner `run` and `eval` use too (`agents.trials`); its commands and
output tail are what `skillspark.harbor.trials` read (safely) from the ATIF trajectory. Tests can drive
the loop with any object of the same shape.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, Field

from skillspark.agents.trials import AGENT_IMPORT_PATH, run_trial_retrying


class AttemptOutcome(BaseModel):
    """What an attempt produced: the trial's verdict inputs plus the agent's commands and output."""

    reward: float | None = None
    status: str = "ok"  # TrialOutcome.status
    infra_kind: str | None = None
    exception_type: str | None = None
    exception_message: str | None = None
    verifier_stdout: str = ""
    ctrf: dict[str, Any] | None = None
    commands: list[str] = Field(default_factory=list)
    agent_output: str = ""
    trial_dir: str | None = None
    skipped_files: list[str] = Field(default_factory=list)  # trial files refused (links, non-regular)
    n_input_tokens: int = 0
    n_output_tokens: int = 0
    cost_usd: float | None = None  # what the agent's model calls cost (None: price unknown)
    duration_s: float = 0.0


class AttemptRunner(Protocol):
    """`max_cost_usd` (passed only under `--max-cost`) is what the attempt's agent may still spend."""

    async def run(self, task_dir: Path, *, attempt: int, extra_prompt: str, jobs_dir: Path,
                  max_cost_usd: float | None = None) -> AttemptOutcome: ...


class HarborAttemptRunner:
    """One Harbor trial per attempt with `SkillsparkAgent`, the extra prompt passed as an agent kwarg."""

    def __init__(self, *, model: str, env: str = "local", timeout_multiplier: float = 1.0,
                 agent_kwargs: dict[str, Any] | None = None, env_kwargs: dict[str, Any] | None = None):
        self.model = model
        self.env = env
        self.timeout_multiplier = timeout_multiplier
        self.agent_kwargs = agent_kwargs or {}
        self.env_kwargs = env_kwargs or {}

    async def run(self, task_dir: Path, *, attempt: int, extra_prompt: str, jobs_dir: Path,
                  max_cost_usd: float | None = None) -> AttemptOutcome:
        from skillspark.harbor.trials import AgentSpec

        spec = AgentSpec(import_path=AGENT_IMPORT_PATH, model=self.model,
                         kwargs={**self.agent_kwargs, "extra_prompt": extra_prompt, "max_cost_usd": max_cost_usd})
        outcome = await run_trial_retrying(task_dir, spec, env=self.env, trials_dir=jobs_dir,
                                           timeout_multiplier=self.timeout_multiplier, env_kwargs=self.env_kwargs,
                                           trial_name=f"attempt-{attempt}-{uuid.uuid4().hex[:6]}")
        return AttemptOutcome(
            reward=outcome.reward, status=outcome.status, infra_kind=outcome.infra_kind,
            exception_type=outcome.exception_type, exception_message=outcome.exception_message,
            verifier_stdout=outcome.verifier_stdout, ctrf=outcome.ctrf, commands=outcome.agent_commands,
            agent_output=outcome.agent_output, trial_dir=str(outcome.trial_dir), skipped_files=outcome.skipped_files,
            n_input_tokens=outcome.n_input_tokens or 0, n_output_tokens=outcome.n_output_tokens or 0,
            cost_usd=outcome.cost_usd, duration_s=outcome.duration_s,
        )
