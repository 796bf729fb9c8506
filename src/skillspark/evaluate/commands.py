"""`skillspark eval TASKS ...` (run an A/B eval) and `skillspark eval report OUT` (summary and HTML again).

The flags become an `EvalRequest`; `evaluate.service` does the work. Heavy imports (harbor, litellm,
matplotlib) happen inside the commands so `skillspark --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import click
import typer
from rich.console import Console
from typer.core import TyperGroup

from skillspark.agents.skill_context import SkillsMode
from skillspark.evaluate.runner import EvalRequest
from skillspark.params import Dashboard, default_of, field_option, output_folder


class _EvalGroup(TyperGroup):
    """`eval TASKS...` is `eval run TASKS...`: anything but a sub-command name (or --help) goes to `run`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(cls=_EvalGroup, no_args_is_help=True)


def _flag(field: str, *names: str, **extra):
    return field_option(EvalRequest, field, *names, **extra)


def _default(field: str):
    return default_of(EvalRequest, field)


@app.command("run")
def run(
    paths: Annotated[list[Path], typer.Argument(help="Task dirs, or dirs of task dirs.", show_default=False)],
    condition: Annotated[
        list[str],
        typer.Option("--condition", "-c", help="none | generated=RUNS_DIR | curated | placebo | library=DIR (repeat)."),
    ],
    output: Annotated[Path, _flag("output", "--output", "-o", callback=output_folder)],
    model: Annotated[list[str] | None, typer.Option("--model", "-m", help=(
        "Student model(s), litellm strings (repeat); default: $SKILLSPARK_MODEL, else local/smollm2."))] = None,
    k: Annotated[int, _flag("k", "-k", "--k")] = _default("k"),
    agent: Annotated[str | None, _flag("agent", "--agent")] = _default("agent"),
    resume: Annotated[bool, _flag("resume", "--resume")] = _default("resume"),
    max_cost: Annotated[float | None, _flag("max_cost_usd", "--max-cost")] = _default("max_cost_usd"),
    parallelism: Annotated[int, _flag("parallelism", "--parallelism", "-p")] = _default("parallelism"),
    seed: Annotated[int, _flag("seed", "--seed")] = _default("seed"),
    env: Annotated[str | None, typer.Option(
        "--env", help="local, docker, daytona, ... or module:Class (default: $SKILLSPARK_ENV, else local).")] = None,
    infra_retries: Annotated[int, _flag("infra_retries", "--infra-retries")] = _default("infra_retries"),
    max_steps: Annotated[int, _flag("max_steps", "--max-steps")] = _default("max_steps"),
    skills_mode: Annotated[SkillsMode, _flag("skills_mode", "--skills-mode")] = _default("skills_mode"),
    command_timeout: Annotated[float, _flag("command_timeout_s", "--command-timeout")] = _default("command_timeout_s"),
    api_base: Annotated[str | None, _flag("api_base", "--api-base")] = _default("api_base"),
    dashboard: Dashboard = False,
) -> None:
    """A/B-evaluate skills: k trials per task, arm and model, interleaved; results, summary and report in OUT."""
    from skillspark.config import get_settings
    from skillspark.dashboard.server import beside
    from skillspark.evaluate.conditions import parse_conditions
    from skillspark.evaluate.service import evaluate
    from skillspark.harbor.agent_names import check_agent

    settings = get_settings()
    if agent is not None:
        check_agent(agent)
    request = EvalRequest(
        models=list(dict.fromkeys(model or [settings.model])), conditions=parse_conditions(condition), k=k,
        output=output.resolve(), agent=agent, env=env or settings.env, seed=seed, parallelism=parallelism,
        max_cost_usd=max_cost, infra_retries=infra_retries, max_steps=max_steps,
        command_timeout_s=command_timeout, skills_mode=skills_mode, api_base=api_base, resume=resume,
    )
    with beside(dashboard, request.output):
        evaluate(paths, request, console=Console())


@app.command("report")
def report(
    output: Annotated[Path, typer.Argument(help="An eval's --output folder (with results.jsonl).")],
    pdi_csv: Annotated[Path | None, typer.Option("--pdi-csv", help="CSV of `skillspark pdi score`.")] = None,
) -> None:
    """Recompute summary.json and report.html from OUT/results.jsonl."""
    from skillspark.evaluate.service import write_outputs

    write_outputs(output.resolve(), pdi_csv=pdi_csv, console=Console())
