"""`skillspark run`: run an agent on task directories, k trials each, and print a results table.

The flags become a `RunConfig` (each flag's default, help and bounds are its field's); `agents.service.
run_agent` does the work. Heavy imports (harbor, litellm) happen inside the function so `skillspark --help`
stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from skillspark.agents.runner import RunConfig
from skillspark.agents.skill_context import SkillsMode
from skillspark.params import default_of, field_option, output_folder


def _flag(field: str, *names: str, **extra):
    return field_option(RunConfig, field, *names, **extra)


def run(
    paths: Annotated[list[Path], typer.Argument(help="Task dirs, or dirs of task dirs.", show_default=False)],
    model: Annotated[str | None, typer.Option(
        "--model", "-m", help="litellm model string or local/smollm2 (default: $SKILLSPARK_MODEL, else local/smollm2).")
    ] = None,
    skills: Annotated[Path | None, _flag("skills", "--skills")] = default_of(RunConfig, "skills"),
    skills_mode: Annotated[SkillsMode, _flag("skills_mode", "--skills-mode")] = default_of(RunConfig, "skills_mode"),
    k: Annotated[int, _flag("k", "-k", "--k")] = default_of(RunConfig, "k"),
    env: Annotated[str | None, typer.Option(
        "--env", help="local, docker, daytona, ... or module:Class (default: $SKILLSPARK_ENV, else local).")] = None,
    agent: Annotated[str | None, _flag("agent", "--agent")] = default_of(RunConfig, "agent"),
    no_task_skills: Annotated[bool, _flag("no_task_skills", "--no-task-skills")] = default_of(RunConfig, "no_task_skills"),
    max_steps: Annotated[int, _flag("max_steps", "--max-steps")] = default_of(RunConfig, "max_steps"),
    command_timeout: Annotated[float, _flag("command_timeout_s", "--command-timeout")] = default_of(
        RunConfig, "command_timeout_s"),
    parallelism: Annotated[int, _flag("parallelism", "--parallelism", "-p")] = default_of(RunConfig, "parallelism"),
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", callback=output_folder,
        help="Where trial directories go (default: $SKILLSPARK_JOBS_DIR, else jobs).")] = None,
    max_cost: Annotated[float | None, _flag("max_cost_usd", "--max-cost")] = default_of(RunConfig, "max_cost_usd"),
    api_base: Annotated[str | None, _flag("api_base", "--api-base")] = default_of(RunConfig, "api_base"),
) -> None:
    """Run an agent on Harbor tasks (k trials each) and print rewards, tokens, cost and time per task."""
    from skillspark.agents.service import run_agent
    from skillspark.config import get_settings

    settings = get_settings()
    config = RunConfig(
        model=model or settings.model,
        k=k,
        env=env or settings.env,
        agent=agent,
        skills=skills,
        skills_mode=skills_mode,
        no_task_skills=no_task_skills,
        max_steps=max_steps,
        command_timeout_s=command_timeout,
        parallelism=parallelism,
        jobs_dir=output or settings.jobs_dir,
        max_cost_usd=max_cost,
        api_base=api_base,
    )
    run_agent(paths, config)
