"""Records of an exploration run, with the field names of the original SPARK logs.

`trajectory.jsonl` holds one record per line: `execution_result`, `pdi_snapshot`, `reflect_call`,
`skill_gen_call`, `task_summary`. The field names match the logs in `data/spark-trajectories/`, so a
log written here can be replayed by the original tooling and theirs by ours. Fields we add are extra
keys; unknown keys from the other implementation are kept (`extra="allow"`).
`attempts.json` (`AttemptsFile`) is the resumable state of one task, rewritten after every attempt.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from skillspark.pdi.proxy import Level, PdiSnapshot

Status = Literal["PASS", "PARTIAL", "FAIL", "ERROR", "INFRA_ERROR"]
TaskState = Literal["running", "solved", "exhausted", "infra_stopped", "budget_exhausted", "cancelled", "failed"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="allow")

    ts: float = Field(default_factory=time.time)


class ExecutionResult(_Record):
    """What one attempt did and how the verifier judged it."""

    type: Literal["execution_result"] = "execution_result"
    attempt: int
    success: bool
    reward: float
    status: Status
    n_passed: int = 0
    n_tests: int = 0
    agent_stdout_full: str = ""
    test_stdout_full: str = ""
    agent_commands: str = ""
    test_summary: str = ""
    result_json: dict[str, Any] | None = None
    ctrf_json: dict[str, Any] | None = None
    retry_injection: str = ""
    error: str = ""
    failed_tests: list[str] = Field(default_factory=list)
    intervention: Level | None = None
    trial_dir: str | None = None


class PdiSnapshotRecord(_Record, PdiSnapshot):
    """The online PDI proxy after reflect step `step` (logged, never shown to the agent)."""

    type: Literal["pdi_snapshot"] = "pdi_snapshot"


class _LLMCall(_Record):
    """What every logged model call keeps: who was asked what, the answer, and its cost in tokens and time."""

    attempt: int
    model: str
    system_prompt: str
    user_prompt: str
    response: str
    input_tokens: int = 0
    output_tokens: int = 0
    latency_s: float = 0.0


class ReflectCall(_LLMCall):
    """One memo rewrite by the summarizer; `ok` is False when the memo was kept unchanged."""

    type: Literal["reflect_call"] = "reflect_call"
    memo_before: str
    memo_after: str
    ok: bool = True
    tries: int = 1
    failure: str | None = None


class SkillGenCall(_LLMCall):
    """The distillation of a SKILL.md after a PASS."""

    type: Literal["skill_gen_call"] = "skill_gen_call"
    skill_name: str = ""
    skill_path: str | None = None
    tries: int = 1
    repaired: bool = False
    problems: list[str] = Field(default_factory=list)


class TaskSummary(_Record):
    """How one task ended (also returned by `explore_tasks`)."""

    type: Literal["task_summary"] = "task_summary"
    task_name: str
    success: bool
    total_attempts: int
    reward_trajectory: list[float]
    status_trajectory: list[str]
    total_time_s: float
    total_input_tokens: int = 0
    total_output_tokens: int = 0
    exploration_config: dict[str, Any] = Field(default_factory=dict)
    state: TaskState = "exhausted"
    reason: str = ""
    skill_path: str | None = None
    interventions: list[str | None] = Field(default_factory=list)
    output_dir: str | None = None


RECORD_TYPES: dict[str, type[_Record]] = {
    "execution_result": ExecutionResult,
    "pdi_snapshot": PdiSnapshotRecord,
    "reflect_call": ReflectCall,
    "skill_gen_call": SkillGenCall,
    "task_summary": TaskSummary,
}


class Attempt(BaseModel):
    """One finished attempt as kept in attempts.json (enough to resume and to replay the proxy)."""

    model_config = ConfigDict(extra="allow")

    attempt: int
    status: Status
    reward: float
    agent_commands: str = ""
    test_summary: str = ""
    n_passed: int = 0
    n_tests: int = 0
    failed_tests: list[str] = Field(default_factory=list)
    intervention: Level | None = None
    memo_version: int | None = None  # the memo version its reflect step wrote, if any
    input_tokens: int = 0
    output_tokens: int = 0
    duration_s: float = 0.0


class PdiState(BaseModel):
    model_config = ConfigDict(extra="allow")

    enabled: bool = True
    observe_only: bool = False
    method: str = "token_overlap"
    warmup: int = 2
    threshold: float = -0.5
    history: list[dict[str, Any]] = Field(default_factory=list)


class AttemptsFile(BaseModel):
    """The state of one task's exploration: rewritten atomically after each attempt."""

    model_config = ConfigDict(extra="allow")

    task_name: str
    max_retries: int
    exploration_memo: str = ""
    memo_history: list[str] = Field(default_factory=list)
    attempts: list[Attempt] = Field(default_factory=list)
    pdi: PdiState = Field(default_factory=PdiState)
    state: TaskState = "running"
    reason: str = ""
    elapsed_s: float = 0.0
    skill_path: str | None = None


def parse_record(data: dict[str, Any]) -> _Record:
    """Build the typed record for one JSON line (unknown types are an error of the caller's file)."""
    kind = data.get("type")
    if kind not in RECORD_TYPES:
        raise ValueError(f"unknown record type {kind!r}")
    return RECORD_TYPES[kind].model_validate(data)
