"""`skillspark explore` as a function: pick and screen the tasks, explore them with a live table, report.

Why apart from the command: the command only turns flags into `ExploreSettings`; a script or notebook
(`skillspark.explore_skills`) runs the same exploration with settings it builds, and gets the same files.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from skillspark.errors import UserError

if TYPE_CHECKING:
    from skillspark.explore.settings import ExploreSettings
    from skillspark.explore.records import TaskSummary
    from skillspark.harbor.tasks import Screening



def explore_skills(paths: list[Path], settings: ExploreSettings, *,
                   console: Console | None = None) -> list[TaskSummary]:
    """Explore the task folders under `paths` as `settings` ask; one summary per task explored.

    Each task's folder under `settings.output` gets attempts.json, trajectory.jsonl, its memos, Harbor's
    trial folders and, when an attempt passed, SKILL.md. Tasks that cannot run are announced one line
    each and the rest run; a refused task still ends in a UserError once the others are done.
    """
    from skillspark.explore import loop
    from skillspark.explore.folders import task_folders
    from skillspark.explore.progress import ProgressView
    from skillspark.harbor.tasks import find_task_dirs

    console = console or Console()
    task_dirs = _select(find_task_dirs(paths), settings.tasks, settings.limit, settings.shuffle_seed)
    screening = _check_and_screen(task_dirs, settings)  # one clear line each before the live table starts
    if settings.shuffle_seed is not None:
        console.print(f"task order shuffled with --seed {settings.shuffle_seed}")
    view = ProgressView(task_folders(screening.tasks), settings.max_attempts, console=console)
    with view:
        summaries = asyncio.run(loop.explore_tasks([task.path for task in screening.tasks], settings,
                                                   on_progress=view.update))
    view.print_summary(summaries)
    screening.raise_if_refused()
    return summaries


def _select(task_dirs: list[Path], tasks: list[str] | None, limit: int | None,
            shuffle_seed: int | None) -> list[Path]:
    if tasks:
        by_name = {d.name: d for d in task_dirs}
        missing = [t for t in tasks if t not in by_name]
        if missing:
            raise UserError(f"--tasks: no task named {', '.join(missing)} under the given paths; "
                            f"known: {', '.join(sorted(by_name)) or 'none'}")
        task_dirs = [by_name[t] for t in tasks]
    if shuffle_seed is not None:
        task_dirs = random.Random(shuffle_seed).sample(task_dirs, len(task_dirs))
    return task_dirs[:limit] if limit else task_dirs


def _check_and_screen(task_dirs: list[Path], settings: ExploreSettings) -> Screening:
    """An unknown --env and a model without its key fail before any work starts; bad tasks are left out."""
    from skillspark.agents.trials import screen
    from skillspark.harbor.envs import environment_config
    from skillspark.llm.models import check_credentials, resolve_model

    environment_config(settings.env)
    for model in dict.fromkeys((settings.model, settings.summarizer_model)):
        check_credentials(resolve_model(model, settings.api_base))
    return screen(task_dirs, settings.env)
