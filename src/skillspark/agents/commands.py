"""`skillspark run`: run an agent on task directories, k trials each, and print a results table.

Heavy imports (harbor, litellm) happen inside the function so `skillspark --help` stays fast.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from skillspark.agents.skill_context import SkillsMode
from skillspark.files import write_atomic
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
    from skillspark.agents.runner import RunRequest, check_request, run_tasks, summarize
    from skillspark.agents.table import progress, results_table
    from skillspark.config import get_settings
    from skillspark.harbor.agent_names import check_agent
    from skillspark.harbor.envs import LOCAL_ENV, environment_config
    from skillspark.harbor.tasks import find_task_dirs, harbor_task_dir, screen_tasks
    from skillspark.sandbox.dockerfile import parse_dockerfile

    settings = get_settings()
    env_name = env or settings.env
    jobs_dir = jobs_dir or settings.jobs_dir
    environment_config(env_name)  # a bad --env refuses the whole run, before the tasks are read
    if agent is not None:
        check_agent(agent)  # so is a bad --agent (Harbor would fail each trial, and the run exit 0)
    local = env_name.strip().lower() == LOCAL_ENV
    screening = screen_tasks(find_task_dirs(paths), dockerfile_check=parse_dockerfile if local else None)
    screening.announce()  # tasks left out: one line each; the rest of the batch runs
    request = RunRequest(
        tasks=[harbor_task_dir(task.path, jobs_dir) for task in screening.tasks],
        model=model or settings.model,
        k=k,
        env=env_name,
        agent=agent,
        skills=skills,
        skills_mode=skills_mode,
        no_task_skills=no_task_skills,
        max_steps=max_steps,
        command_timeout_s=command_timeout,
        parallelism=parallelism,
        jobs_dir=jobs_dir,
        max_cost_usd=max_cost,
        api_base=api_base,
    )
    check_request(request)  # one clear line before any progress display
    trials_dir = request.jobs_dir / datetime.now().strftime("run-%Y%m%d-%H%M%S-%f")
    with progress(len(request.tasks) * k) as on_result:
        outcomes = asyncio.run(run_tasks(request, trials_dir, on_result))
    rows = summarize(outcomes)
    summary = {"request": request.model_dump(mode="json"), "tasks": [r.model_dump(mode="json") for r in rows]}
    write_atomic(trials_dir / "summary.json", json.dumps(summary, indent=2), make_parents=True)
    from rich.console import Console

    console = Console()
    console.print(results_table(rows))
    skipped = len(request.tasks) * k - len(outcomes)
    if skipped:
        console.print(f"{skipped} trial(s) not started: the --max-cost budget of ${max_cost} was spent")
    console.print(f"trial directories: {trials_dir}")
    screening.raise_if_refused()
