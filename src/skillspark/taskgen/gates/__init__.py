"""The gates a task must pass to be accepted (`skillspark tasks audit`, and generation's acceptance).

The runner (and Harbor with it) loads on first use, so the gate names and records stay light for the
command line's flags.
"""

from typing import TYPE_CHECKING, Any

from skillspark.taskgen.gates.models import GATE_NAMES, AuditReport, GateResult, TaskAudit, parse_gates

if TYPE_CHECKING:
    from skillspark.taskgen.gates.runner import audit_task, audit_tasks

__all__ = ["GATE_NAMES", "AuditReport", "GateResult", "TaskAudit", "audit_task", "audit_tasks", "parse_gates"]


def __getattr__(name: str) -> Any:
    if name in ("audit_task", "audit_tasks"):
        from skillspark.taskgen.gates import runner

        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
