"""`skillspark run`: run an agent on task directories, k trials each, and print a results table.

The flags become a `RunConfig`; `agents.service.run_agent` does the work. Heavy imports (harbor,
litellm) happen inside the function so `skillspark --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from skillspark.agents.skill_context import SkillsMode
from skillspark.limits import MAX_PARALLELISM, MAX_TRIALS_PER_TASK


def run(
    paths: Annotated[list[Path], typer.Argument(help="Task dirs, or dirs of task dirs.", show_default=False)],
    model: Annotated[str | None, typer.Option("--model", "-m", help="litellm model string or local/smollm2.")] = None,
    skills: Annotated[
        Path | None, typer.Option("--skills", help="Folder of skill folders (each with SKILL.md) to inject.")
    ] = None,
    skills_mode: Annotated[SkillsMode, typer.Option(
        "--skills-mode", help="pointer: one line naming /skills; inline: the SKILL.md texts in the prompt, before the task.")
    ] = SkillsMode.pointer,
    k: Annotated[int, typer.Option("-k", "--k", min=1, max=MAX_TRIALS_PER_TASK, help="Trials per task.")] = 1,
    env: Annotated[str | None, typer.Option("--env", help="local, docker, daytona, ... or module:Class.")] = None,
    agent: Annotated[
        str | None, typer.Option("--agent", help="Run a Harbor agent (terminus-2, oracle, nop, module:Class).")
    ] = None,
    no_task_skills: Annotated[
        bool, typer.Option("--no-task-skills", help="Remove skills the task bundles (environment/skills).")
    ] = False,
    max_steps: Annotated[int, typer.Option("--max-steps", min=1, help="Model calls per trial.")] = 30,
    command_timeout: Annotated[float, typer.Option("--command-timeout", min=1, help="Seconds per command.")] = 60.0,
    parallelism: Annotated[int, typer.Option("--parallelism", "-p", min=1, max=MAX_PARALLELISM, help="Trials at once.")] = 1,
    jobs_dir: Annotated[Path | None, typer.Option("--jobs-dir", help="Where trial directories go.")] = None,
    max_cost: Annotated[float | None, typer.Option("--max-cost", min=0, help="Stop starting trials past $N.")] = None,
    api_base: Annotated[str | None, typer.Option("--api-base", help="OpenAI-compatible endpoint URL.")] = None,
) -> None:
    """Run an agent on Harbor tasks (k trials each) and print rewards, tokens, cost and time per task."""
    from skillspark.agents.runner import RunConfig
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
        jobs_dir=jobs_dir or settings.jobs_dir,
        max_cost_usd=max_cost,
        api_base=api_base,
    )
    run_agent(paths, config)
