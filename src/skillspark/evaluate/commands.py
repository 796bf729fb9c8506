"""`skillspark eval TASKS ...` (run an A/B eval) and `skillspark eval report OUT` (summary and HTML again).

Heavy imports (harbor, litellm, matplotlib) happen inside the commands so `skillspark --help` stays fast.
"""

from __future__ import annotations

import asyncio
import csv
import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import click
import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from skillspark.agents.skill_context import SkillsMode
from skillspark.errors import UserError
from skillspark.limits import MAX_PARALLELISM, MAX_SEED, MAX_TRIALS_PER_TASK
from skillspark.params import output_folder

if TYPE_CHECKING:
    from skillspark.evaluate.results import EvalResult
    from skillspark.evaluate.runner import EvalPlan

SUMMARY_FILE = "summary.json"


class _EvalGroup(TyperGroup):
    """`eval TASKS...` is `eval run TASKS...`: anything but a sub-command name (or --help) goes to `run`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(cls=_EvalGroup, no_args_is_help=True)


@app.command("run")
def run(
    paths: Annotated[list[Path], typer.Argument(help="Task dirs, or dirs of task dirs.", show_default=False)],
    condition: Annotated[
        list[str],
        typer.Option("--condition", "-c", help="none | generated=RUNS_DIR | curated | placebo | library=DIR (repeat)."),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for results.jsonl, eval.json, report.",
                                         callback=output_folder)],
    model: Annotated[
        list[str] | None, typer.Option("--model", "-m", help="Student model(s), litellm strings (repeat).")
    ] = None,
    k: Annotated[int, typer.Option("-k", "--k", min=1, max=MAX_TRIALS_PER_TASK, help="Trials per (task, arm, model).")] = 3,
    agent: Annotated[str | None, typer.Option("--agent", help="A Harbor agent (module:Class) instead of ours.")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue OUT: skip finished trials.")] = False,
    max_cost: Annotated[float | None, typer.Option("--max-cost", min=0, help="Stop starting trials past $N.")] = None,
    parallelism: Annotated[int, typer.Option("--parallelism", "-p", min=1, max=MAX_PARALLELISM, help="Trials at once.")] = 1,
    seed: Annotated[int, typer.Option("--seed", min=0, max=MAX_SEED,
                                      help="Seed of the interleaved trial order (and of the permutation test's sampling fallback).")] = 0,
    env: Annotated[str | None, typer.Option("--env", help="local, docker, daytona, ... or module:Class.")] = None,
    infra_retries: Annotated[
        int, typer.Option("--infra-retries", min=0, help="Retries of a trial the infrastructure failed.")
    ] = 2,
    max_steps: Annotated[int, typer.Option("--max-steps", min=1, help="Model calls per trial.")] = 30,
    skills_mode: Annotated[SkillsMode, typer.Option(
        "--skills-mode", help="pointer: one line naming /skills; inline: the SKILL.md texts in the prompt, before the task.")
    ] = SkillsMode.pointer,
    command_timeout: Annotated[float, typer.Option("--command-timeout", min=1, help="Seconds per command.")] = 60.0,
    api_base: Annotated[str | None, typer.Option("--api-base", help="OpenAI-compatible endpoint URL.")] = None,
    dashboard: Annotated[bool, typer.Option(
        "--dashboard", help="Serve the live dashboard of OUT on 127.0.0.1 while the eval lasts.")] = False,
) -> None:
    """A/B-evaluate skills: k trials per task, arm and model, interleaved; results, summary and report in OUT."""
    from skillspark.config import get_settings
    from skillspark.evaluate.conditions import parse_conditions
    from skillspark.evaluate.runner import EvalRequest, plan_eval, run_eval
    from skillspark.harbor.agent_names import check_agent
    from skillspark.harbor.envs import LOCAL_ENV
    from skillspark.harbor.tasks import find_task_dirs, screen_tasks
    from skillspark.sandbox.dockerfile import parse_dockerfile

    settings = get_settings()
    env_name = env or settings.env
    if agent is not None:
        check_agent(agent)
    request = EvalRequest(
        models=list(dict.fromkeys(model or [settings.model])), conditions=parse_conditions(condition), k=k,
        output=output.resolve(), agent=agent, env=env_name, seed=seed, parallelism=parallelism,
        max_cost_usd=max_cost, infra_retries=infra_retries, max_steps=max_steps,
        command_timeout_s=command_timeout, skills_mode=skills_mode, api_base=api_base, resume=resume,
    )
    local = env_name.strip().lower() == LOCAL_ENV
    screening = screen_tasks(find_task_dirs(paths), dockerfile_check=parse_dockerfile if local else None)
    screening.announce()
    plan = plan_eval(request, screening.tasks)
    console = Console()
    for arm, tasks in plan.missing.items():
        console.print(f"note: arm {arm} has no skill for {len(tasks)} task(s) ({', '.join(tasks)}): "
                      "reported in eval.json as missing_skills, not run")
    board = ArmBoard(plan)
    from rich.live import Live

    from skillspark.dashboard.commands import beside

    with beside(dashboard, request.output), Live(board, console=console, refresh_per_second=2):
        asyncio.run(run_eval(request, plan, on_result=board.add))
    console.print()  # off a terminal, Live leaves its last line open
    not_started = len(plan.units) - board.n_done
    if not_started:
        console.print(f"{not_started} trial(s) not started: the --max-cost budget of ${max_cost} was spent")
    write_outputs(request.output, console=console)
    screening.raise_if_refused()


@app.command("report")
def report(
    output: Annotated[Path, typer.Argument(help="An eval's --output folder (with results.jsonl).")],
    pdi: Annotated[Path | None, typer.Option("--pdi", help="CSV of `skillspark pdi score`.")] = None,
) -> None:
    """Recompute summary.json and report.html from OUT/results.jsonl."""
    write_outputs(output.resolve(), pdi_csv=pdi, console=Console())


def write_outputs(out: Path, *, pdi_csv: Path | None = None, console: Console) -> None:
    """summary.json and report.html of OUT from its results (the statistics live in summary/report)."""
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


def read_pdi_csv(path: Path) -> list[dict[str, Any]]:
    """The rows of a `skillspark pdi score` CSV, as dicts; UserError when it cannot be read."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UserError(f"--pdi {path}: cannot read it as CSV ({type(exc).__name__}); "
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
