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
    for column in ("task", "verdict", "class", "build", "oracle", "nop", "time", "reason"):
        table.add_column(column, overflow="fold", no_wrap=column in ("task", "verdict", "class"))
    for check in report.tasks:
        style = _VERDICT_STYLE[check.verdict]
        table.add_row(
            check.task,
            f"[{style}]{check.verdict}[/{style}]",
            check.failure_class or "-",
            _build_cell(check),
            _trial_cell(check.oracle) + (f"\nagain: {_trial_cell(check.oracle_rerun)}" if check.oracle_rerun else ""),
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
        failure = [f"class {check.failure_class}: {check.failure_detail}"] if check.failure_class else []
        for line in [*check.reasons, *failure, *(f"warning: {w}" for w in check.warnings)]:
            console.print(f"{check.task}: {line}", soft_wrap=True, highlight=False, markup=False)
    classes = ", ".join(f"{n} {name}" for name, n in report.failure_classes.items())
    by_class = f" (failure classes: {classes})" if classes else ""
    console.print(f"{len(report.tasks)} task(s): {counts or 'none'}{by_class}; trial logs in {report.trials_dir}",
                  soft_wrap=True, highlight=False, markup=False)


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
