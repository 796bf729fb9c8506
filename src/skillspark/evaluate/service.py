"""`skillspark eval` as a function: screen the tasks, plan the arms, run the trials, write the summary and report.

Why apart from the command: the command only turns flags into an `EvalRequest`; `skillspark demo` (and
a script or notebook) runs the same eval by calling `evaluate` with a request it builds, never the
Typer command. `write_outputs` is also what `eval report` runs again over a finished folder.
"""

from __future__ import annotations

import asyncio
import csv
import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from skillspark.agents.skill_context import SkillsMode
from skillspark.errors import UserError

if TYPE_CHECKING:
    from skillspark.evaluate.results import EvalResult
    from skillspark.evaluate.runner import EvalPlan, EvalRequest

SUMMARY_FILE = "summary.json"


def evaluate(paths: list[Path], request: EvalRequest, *, console: Console | None = None) -> dict[str, Any]:
    """Run the A/B eval `request` asks for over the task folders under `paths`; the summary it wrote.

    Tasks that cannot run are announced one line each and the rest run; a refused task still ends in a
    UserError once the others are done and reported. A live table shows each arm while trials run.
    """
    from rich.live import Live

    from skillspark.agents.trials import screen
    from skillspark.evaluate.runner import plan_eval, run_eval
    from skillspark.harbor.tasks import find_task_dirs

    console = console or Console()
    screening = screen(find_task_dirs(paths), request.env)
    plan = plan_eval(request, screening.tasks)
    for arm, tasks in plan.missing.items():
        console.print(f"note: arm {arm} has no skill for {len(tasks)} task(s) ({', '.join(tasks)}): "
                      "reported in eval.json as missing_skills, not run")
    board = ArmBoard(plan)
    with Live(board, console=console, refresh_per_second=2):
        asyncio.run(run_eval(request, plan, on_result=board.add))
    console.print()  # off a terminal, Live leaves its last line open
    not_started = len(plan.units) - board.n_done
    if not_started:
        console.print(f"{not_started} trial(s) not started: the --max-cost budget of ${request.max_cost_usd} was spent")
    summary = write_outputs(request.output, console=console)
    screening.raise_if_refused()
    return summary


def write_outputs(out: Path, *, pdi_csv: Path | None = None, console: Console) -> dict[str, Any]:
    """summary.json and report.html of OUT from its results (the statistics live in summary/report); the summary."""
    from skillspark.evaluate.results import RESULTS_FILE, read_config, read_results
    from skillspark.files import write_atomic

    results = read_results(out)
    if not results:
        raise UserError(f"{out / RESULTS_FILE}: no finished trial to report; run `skillspark eval` with --output {out}")
    config = read_config(out) or {}
    fingerprint = config.get("fingerprint", {})
    k = int(fingerprint.get("k") or max(r.trial for r in results) + 1)
    pdi_rows = read_pdi_csv(pdi_csv) if pdi_csv is not None else None
    records = [r.model_dump() for r in results]
    from skillspark.evaluate.report import pdi_correlations, write_report
    from skillspark.evaluate.summary import build_summary

    teacher = {c["label"]: c["teacher_cost_usd"] for c in config.get("conditions", [])
               if c.get("teacher_cost_usd") is not None}
    summary = build_summary(records, k=k, seed=int(fingerprint.get("seed") or 0), teacher_cost_usd=teacher,
                            missing_skills=config.get("missing_skills"))
    summary["skills_mode"] = fingerprint.get("skills_mode", SkillsMode.pointer.value)
    if pdi_rows is not None:
        summary["pdi_correlation"] = pdi_correlations(summary, records, pdi_rows)
    write_atomic(out / SUMMARY_FILE, json.dumps(summary, indent=2), make_parents=True)
    page = write_report(out, summary, records, pdi_rows)
    console.print(summary_table(summary))
    for comparison in summary.get("comparisons", []):
        if comparison.get("verdict"):
            console.print(comparison["verdict"])
    console.print(f"summary: {out / SUMMARY_FILE}\nreport: {page}")
    return summary


def read_pdi_csv(path: Path) -> list[dict[str, Any]]:
    """The rows of a `skillspark pdi score` CSV, as dicts; UserError when it cannot be read."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UserError(f"--pdi-csv {path}: cannot read it as CSV ({type(exc).__name__}); "
                        "pass the CSV `skillspark pdi score` wrote") from None


def summary_table(summary: dict[str, Any]) -> Table:
    table = Table(title="skillspark eval")
    for name in ("model", "arm", "tasks", "trials", "pass rate", "Wilson 95%", "cost $", "infra errors"):
        table.add_column(name, justify="left" if name in ("model", "arm") else "right")
    for arm in summary.get("arms", []):
        lo, hi = arm.get("wilson95") or (None, None)
        table.add_row(
            str(arm["model"]), str(arm["condition"]), str(arm.get("n_tasks")), str(arm.get("n_trials")),
            _pct(arm.get("pass_rate")), f"{_pct(lo)}–{_pct(hi)}", _money(arm.get("cost_usd")),
            str(arm.get("infra_errors", 0)),
        )
    return table


class ArmBoard:
    """The live table: per arm (model × condition) trials done/total, pass rate so far, cost so far."""

    def __init__(self, plan: EvalPlan):
        self.total = dict(sorted(Counter((u.model, u.condition) for u in plan.units).items()))
        self.done: Counter[tuple[str, str]] = Counter()
        self.passes: Counter[tuple[str, str]] = Counter()
        self.counted: Counter[tuple[str, str]] = Counter()  # infra errors excluded from the rate
        self.cost: Counter[tuple[str, str]] = Counter()
        self.n_done = 0
        for result in plan.done:
            self._count(result)

    def add(self, result: EvalResult) -> None:
        self._count(result)

    def _count(self, result: EvalResult) -> None:
        arm = (result.model, result.condition)
        self.n_done += 1
        self.done[arm] += 1
        self.passes[arm] += result.passed
        self.counted[arm] += result.status != "infra_error"
        self.cost[arm] += result.cost_usd or 0.0

    def __rich__(self) -> Table:
        table = Table(title=f"skillspark eval: {self.n_done}/{sum(self.total.values())} trials")
        for name in ("model", "arm", "done", "pass rate", "cost $"):
            table.add_column(name, justify="left" if name in ("model", "arm") else "right")
        for arm, total in self.total.items():
            rate = self.passes[arm] / self.counted[arm] if self.counted[arm] else None
            table.add_row(arm[0], arm[1], f"{self.done[arm]}/{total}", _pct(rate), _money(self.cost[arm]))
        return table


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"
