"""The settings `run`, `eval` and the Python API share: how each trial's agent works, and how a batch runs.

Why one place: `RunConfig` and `EvalRequest` both hold them, and each field's description is the help of
its flag in both commands (`params.field_option`), so `run` and `eval` cannot drift apart on what
`--max-steps` means or defaults to.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from skillspark.agents.skill_context import SkillsMode
from skillspark.limits import MAX_PARALLELISM, MAX_TRIALS_PER_TASK


class AgentSettings(BaseModel):
    """How the agent of every trial works, and where the trial runs."""

    env: str = Field(default="local", description="local, docker, daytona, ... or module:Class.")
    agent: str | None = Field(default=None, description="A Harbor agent (terminus-2, oracle, nop, module:Class) instead of ours.")
    skills_mode: SkillsMode = Field(default=SkillsMode.pointer, description=(
        "pointer: one line naming /skills; inline: the SKILL.md texts in the prompt, before the task."))
    max_steps: int = Field(default=30, ge=1, description="Model calls per trial.")
    command_timeout_s: float = Field(default=60.0, ge=1, description="Seconds per command.")
    api_base: str | None = Field(default=None, description="OpenAI-compatible endpoint URL.")


class BatchSettings(BaseModel):
    """How many trials, how many at once, and what they may spend."""

    k: int = Field(default=1, ge=1, le=MAX_TRIALS_PER_TASK, description="Trials per task.")
    parallelism: int = Field(default=1, ge=1, le=MAX_PARALLELISM, description="Trials at once.")
    max_cost_usd: float | None = Field(default=None, ge=0, description="Stop starting trials past $N.")
