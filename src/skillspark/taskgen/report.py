"""Show a `CheckReport`: the rich table for people, the JSON file for machines."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from skillspark.errors import UserError
from skillspark.files import write_atomic
from skillspark.taskgen.check import CheckReport, TaskCheck, TrialSummary

_VERDICT_STYLE = {"valid": "green", "broken": "red", "invalid": "red", "infra_error": "yellow"}


def render_table(report: CheckReport) -> Table:
    """One row per task: task, build, oracle, nop, time, reason."""
    table = Table(title=f"skillspark tasks check (env: {report.env})")
    for column in ("task", "verdict", "build", "oracle", "nop", "time", "reason"):
        table.add_column(column, overflow="fold", no_wrap=column in ("task", "verdict"))
    for check in report.tasks:
        style = _VERDICT_STYLE[check.verdict]
        table.add_row(
            check.task,
            f"[{style}]{check.verdict}[/{style}]",
            _build_cell(check),
            _trial_cell(check.oracle),
            _trial_cell(check.nop),
            f"{check.duration_s:.1f}s",
            "\n".join(check.reasons) or "-",
        )
    return table


def _build_cell(check: TaskCheck) -> str:
    if check.build == "ok" and check.build_s is not None:
        return f"ok {check.build_s:.1f}s"
    return check.build


def _trial_cell(trial: TrialSummary | None) -> str:
    if trial is None:
        return "-"
    reward = "none" if trial.reward is None else f"{trial.reward:g}"
    return reward if trial.status == "ok" else f"{reward} ({trial.status})"


def print_report(report: CheckReport, console: Console) -> None:
    console.print(render_table(report))
    counts = ", ".join(f"{n} {verdict}" for verdict, n in report.counts.items() if n)
    for check in report.tasks:
        for line in [*check.reasons, *(f"warning: {w}" for w in check.warnings)]:
            console.print(f"{check.task}: {line}", soft_wrap=True, highlight=False, markup=False)
    console.print(f"{len(report.tasks)} task(s): {counts or 'none'}; trial logs in {report.trials_dir}")


def check_json_target(path: Path) -> None:
    """Fail before any work if the report could not be written where asked."""
    target = path.expanduser()
    if target.is_dir():
        raise UserError(f"--json {path} is a directory; give a file path such as {path / 'report.json'}")
    if not target.parent.is_dir():
        raise UserError(f"--json {path}: directory {target.parent} does not exist; create it or pick another path")


def write_json(report: CheckReport, path: Path) -> None:
    """Write the report to a temporary file beside `path`, then rename it into place."""
    check_json_target(path)
    write_atomic(path.expanduser(), report.model_dump_json(indent=2))
