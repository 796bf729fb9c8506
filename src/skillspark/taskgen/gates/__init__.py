"""The gates a task must pass to be accepted (`skillspark tasks audit`, and generation's acceptance)."""

from skillspark.taskgen.gates.models import GATE_NAMES, AuditReport, GateResult, TaskAudit, parse_gates
from skillspark.taskgen.gates.runner import audit_task, audit_tasks

__all__ = ["GATE_NAMES", "AuditReport", "GateResult", "TaskAudit", "audit_task", "audit_tasks", "parse_gates"]
