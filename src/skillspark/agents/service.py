"""`skillspark run` as a function: screen the tasks, run k trials each with a progress bar, write the summary.

Why apart from the command: the command only turns flags into a `RunConfig`; a script or notebook
(`skillspark.run_agent`) runs the same batch with a config it builds, and gets the same files.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel
from rich.console import Console

from skillspark.agents.runner import RunConfig, RunRequest, TaskSummary, check_request, run_tasks, summarize
from skillspark.files import write_atomic

SUMMARY_FILE = "summary.json"


class RunResult(BaseModel):
    """What a run did: where its trials are, one row per task, and how many trials the budget left out."""

    trials_dir: Path
    tasks: list[TaskSummary]
    not_started: int


def run_agent(paths: list[Path], config: RunConfig, *, console: Console | None = None) -> RunResult:
    """Run `config.k` trials of every task folder under `paths`; print and return one row per task.

    A new `run-<time>` folder under `config.jobs_dir` gets the Harbor trial folders and summary.json.
    Tasks that cannot run are announced one line each and the rest run; a refused task still ends in a
    UserError once the others are done and reported.
    """
    from skillspark.agents.table import progress, results_table
    from skillspark.agents.trials import screen
    from skillspark.harbor.agent_names import check_agent
    from skillspark.harbor.envs import environment_config
    from skillspark.harbor.tasks import find_task_dirs, harbor_task_dir

    console = console or Console()
    environment_config(config.env)  # a bad --env refuses the whole run, before the tasks are read
    if config.agent is not None:
        check_agent(config.agent)  # so is a bad --agent (Harbor would fail each trial, and the run exit 0)
    screening = screen(find_task_dirs(paths), config.env)
    request = RunRequest(**config.model_dump(),
                         tasks=[harbor_task_dir(task.path, config.jobs_dir) for task in screening.tasks])
    check_request(request)  # one clear line before any progress display
    trials_dir = request.jobs_dir / datetime.now().strftime("run-%Y%m%d-%H%M%S-%f")
    with progress(len(request.tasks) * request.k) as on_result:
        outcomes = asyncio.run(run_tasks(request, trials_dir, on_result))
    rows = summarize(outcomes)
    summary = {"request": request.model_dump(mode="json"), "tasks": [r.model_dump(mode="json") for r in rows]}
    write_atomic(trials_dir / SUMMARY_FILE, json.dumps(summary, indent=2), make_parents=True)
    console.print(results_table(rows))
    not_started = len(request.tasks) * request.k - len(outcomes)
    if not_started:
        console.print(f"{not_started} trial(s) not started: the --max-cost budget of ${request.max_cost_usd} was spent")
    console.print(f"trial directories: {trials_dir}")
    screening.raise_if_refused()
    return RunResult(trials_dir=trials_dir, tasks=rows, not_started=not_started)
