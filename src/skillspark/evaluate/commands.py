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
from skillspark.limits import MAX_PARALLELISM, MAX_SEED, MAX_TRIALS_PER_TASK
from skillspark.params import output_folder


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
    from skillspark.dashboard.server import beside
    from skillspark.evaluate.conditions import parse_conditions
    from skillspark.evaluate.runner import EvalRequest
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
    pdi: Annotated[Path | None, typer.Option("--pdi", help="CSV of `skillspark pdi score`.")] = None,
) -> None:
    """Recompute summary.json and report.html from OUT/results.jsonl."""
    from skillspark.evaluate.service import write_outputs

    write_outputs(output.resolve(), pdi_csv=pdi, console=Console())
