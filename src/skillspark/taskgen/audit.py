"""Show an `AuditReport`: a rich table (one column per gate) for people, the JSON file for machines.

The JSON is exactly `{"tasks": [{"task", "verdict", "failed_gates", "gates": {name: {"ok", "detail"}}}]}`.
"""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from skillspark.files import write_atomic
from skillspark.taskgen.gates.models import GATE_NAMES, AuditReport, GateResult
from skillspark.taskgen.report import check_json_target


def _cell(result: GateResult | None) -> str:
    if result is None:
        return ""
    if not result.ran:
        return "[dim]-[/dim]"
    return "[green]ok[/green]" if result.ok else "[red]FAIL[/red]"


def render_table(report: AuditReport) -> Table:
    """One row per task: verdict, one cell per gate (ok, FAIL, or - for not run), time."""
    used = [g for g in GATE_NAMES if any(g in t.gates for t in report.tasks)]
    table = Table(title=f"skillspark tasks audit (env: {report.env})")
    for column in ("task", "verdict", *used, "time"):
        table.add_column(column, no_wrap=True)
    for audit in report.tasks:
        verdict = "[green]accepted[/green]" if audit.verdict == "accepted" else "[red]rejected[/red]"
        table.add_row(audit.task, verdict, *(_cell(audit.gates.get(g)) for g in used), f"{audit.duration_s:.1f}s")
    return table


def print_report(report: AuditReport, console: Console) -> None:
    """The table, then one line per gate that is not ok (why), then the totals."""
    console.print(render_table(report))
    for audit in report.tasks:
        for result in audit.gates.values():
            if not result.ok:
                console.print(f"{audit.task}: {result.name}: {result.detail}", soft_wrap=True, highlight=False,
                              markup=False)
    accepted = sum(t.verdict == "accepted" for t in report.tasks)
    console.print(f"{len(report.tasks)} task(s): {accepted} accepted, {len(report.tasks) - accepted} rejected; "
                  f"trial logs in {report.work_dir}")


def write_json(report: AuditReport, path: Path) -> None:
    check_json_target(path)
    write_atomic(path.expanduser(), json.dumps(report.public(), indent=2) + "\n")
