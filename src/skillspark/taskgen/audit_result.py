"""The part of a gate audit that generation acts on, and how a gate runner is called.

Why a local model: generation records every audit in its run folder and reads it back on `--resume`;
it needs the verdict, the failed gate names and each gate's detail, whatever else the audit carries.
A gate runner is a parameter so that a test can script verdicts; the default calls
`skillspark.taskgen.gates.audit_task` in the chosen environment.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field


class GateOutcome(BaseModel):
    ok: bool
    detail: str = ""


class AuditSummary(BaseModel):
    verdict: Literal["accepted", "rejected"]
    failed_gates: list[str] = Field(default_factory=list)
    gates: dict[str, GateOutcome] = Field(default_factory=dict)

    @classmethod
    def of(cls, audit: Any) -> AuditSummary:
        """From a `TaskAudit` (or anything with verdict, failed_gates and gates[name].ok/.detail)."""
        gates = {name: GateOutcome(ok=bool(g.ok), detail=str(getattr(g, "detail", "") or ""))
                 for name, g in dict(audit.gates).items()}
        return cls(verdict=audit.verdict, failed_gates=list(audit.failed_gates), gates=gates)


class GateRunner(Protocol):
    def __call__(self, task_dir: Path, *, references: Sequence[Path], work_dir: Path) -> Awaitable[AuditSummary]: ...


def default_gate_runner(env: str, timeout_multiplier: float = 1.0, gates: Sequence[str] | None = None) -> GateRunner:
    """Every gate (or `gates`), in `env`, through `audit_task`."""

    async def run(task_dir: Path, *, references: Sequence[Path], work_dir: Path) -> AuditSummary:
        from skillspark.taskgen.gates import GATE_NAMES, audit_task

        audit = await audit_task(task_dir, gates=tuple(gates or GATE_NAMES), env=env, references=tuple(references),
                                 work_dir=work_dir, timeout_multiplier=timeout_multiplier)
        return AuditSummary.of(audit)

    return run
