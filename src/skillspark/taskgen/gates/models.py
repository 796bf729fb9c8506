"""The records of an audit: one `GateResult` per gate, one `TaskAudit` per task.

A gate that could not run because a gate it depends on failed (mutants without a passing oracle)
has `ok = False` and `ran = False`: the task is not accepted, since the property was never
verified, but only gates that ran and failed are listed in `failed_gates`, so that list names
the causes and not their consequences.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, Field

from skillspark.errors import UserError

# In the order they run: static gates first, then the ones that need trials.
GATE_NAMES = ("schema", "lint", "oracle", "nop", "mutants", "leak", "determinism", "offline", "dedup")


class GateResult(BaseModel):
    name: str
    ok: bool
    detail: str
    ran: bool = True

    @classmethod
    def not_run(cls, name: str, why: str) -> GateResult:
        return cls(name=name, ok=False, detail=f"not run: {why}", ran=False)


class TaskAudit(BaseModel):
    task: str
    verdict: Literal["accepted", "rejected"]
    failed_gates: list[str]
    gates: dict[str, GateResult]
    path: str = ""
    duration_s: float = 0.0
    phases: dict[str, float] = Field(default_factory=dict)  # wall seconds by phase (not in the JSON report)

    @classmethod
    def of(cls, task: str, results: list[GateResult], *, path: str = "", duration_s: float = 0.0,
           phases: dict[str, float] | None = None) -> TaskAudit:
        gates = {result.name: result for result in results}
        return cls(
            task=task,
            verdict="accepted" if all(r.ok for r in results) else "rejected",
            failed_gates=[r.name for r in results if r.ran and not r.ok],
            gates=gates,
            path=path,
            duration_s=round(duration_s, 2),
            phases={name: round(seconds, 2) for name, seconds in (phases or {}).items()},
        )

    def public(self) -> dict:
        """The JSON shape of one task: task, verdict, failed_gates, gates {name: {ok, detail}}."""
        return {
            "task": self.task,
            "verdict": self.verdict,
            "failed_gates": self.failed_gates,
            "gates": {name: {"ok": g.ok, "detail": g.detail} for name, g in self.gates.items()},
        }


class AuditReport(BaseModel):
    """What `skillspark tasks audit` reports: exit code 0 when every task is accepted, else 1."""

    env: str
    work_dir: str
    tasks: list[TaskAudit] = Field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 0 if all(t.verdict == "accepted" for t in self.tasks) else 1

    def public(self) -> dict:
        return {"tasks": [t.public() for t in self.tasks]}


def parse_gates(names: Sequence[str] | None) -> tuple[str, ...]:
    """`--gates dedup --gates schema` -> ("schema", "dedup") in run order; an unknown name is a `UserError`."""
    if names is None:
        return GATE_NAMES
    asked = [name.strip() for name in names if name.strip()]
    unknown = [name for name in asked if name not in GATE_NAMES]
    if unknown or not asked:
        what = f"unknown gate(s) {', '.join(unknown)}" if unknown else "no gate named"
        raise UserError(f"--gates: {what}; repeat --gates with any of {', '.join(GATE_NAMES)}")
    return tuple(name for name in GATE_NAMES if name in asked)
