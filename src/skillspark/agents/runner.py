"""`skillspark run` without the CLI: k trials per task through the one trial runner, a cost limit, a summary.

Why here: the CLI parses flags and draws progress; this module decides what runs (which agent, which
task copies, which model endpoint) and reduces the Harbor outcomes to one row per task. Trials go through
`skillspark.agents.trials`, so every trial leaves a normal Harbor trial directory.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path
from statistics import mean
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from skillspark.agents.settings import AgentSettings, BatchSettings
from skillspark.agents.skill_context import check_skills_mode
from skillspark.agents.skills import skill_folders, strip_task_skills
from skillspark.agents.trials import (
    AGENT_IMPORT_PATH,
    MODEL_FREE_AGENTS,
    model_endpoint,
    run_batch,
    run_trial_retrying,
)
from skillspark.config import DEFAULT_MODEL
from skillspark.errors import UserError
from skillspark.llm.budget import Budget

if TYPE_CHECKING:
    from skillspark.harbor.trials import AgentSpec, TrialOutcome


class RunConfig(AgentSettings, BatchSettings):
    """Everything `skillspark run` (and `skillspark.run_agent`) is asked to do, but which tasks.

    Each field's description is its flag's help (`params.field_option`): the command and the API share
    one default.
    """

    model: str = Field(default=DEFAULT_MODEL, description="litellm model string or local/smollm2.")
    skills: Path | None = Field(default=None, description="Folder of skill folders (each with SKILL.md) to inject.")
    no_task_skills: bool = Field(default=False, description="Remove skills the task bundles (environment/skills).")
    jobs_dir: Path = Field(default=Path("jobs"), description="Where trial directories go.")
    agent_kwargs: dict[str, Any] = Field(default_factory=dict)  # keyword arguments of a Harbor agent (API only)


class RunRequest(RunConfig):
    """A `RunConfig` with the task folders it runs (Harbor-ready, already screened)."""

    tasks: list[Path]


class TaskSummary(BaseModel):
    """One row of the results table: a task's k trials reduced."""

    task: str
    trials: int
    rewards: list[float | None]
    statuses: list[str]
    mean_reward: float | None
    n_passed: int
    n_input_tokens: int
    n_output_tokens: int
    cost_usd: float | None
    duration_s: float


def summarize(outcomes: list[TrialOutcome]) -> list[TaskSummary]:
    """One TaskSummary per task, in first-seen order; a missing reward counts as 0 in the mean."""
    by_task: dict[str, list[TrialOutcome]] = {}
    for outcome in outcomes:
        by_task.setdefault(outcome.task_name, []).append(outcome)
    rows = []
    for task, group in by_task.items():
        rewards = [o.reward for o in group]
        costs = [o.cost_usd for o in group]
        rows.append(
            TaskSummary(
                task=task,
                trials=len(group),
                rewards=rewards,
                statuses=[o.status for o in group],
                mean_reward=mean(r or 0.0 for r in rewards),
                n_passed=sum(o.passed for o in group),
                n_input_tokens=sum(o.n_input_tokens or 0 for o in group),
                n_output_tokens=sum(o.n_output_tokens or 0 for o in group),
                cost_usd=None if all(c is None for c in costs) else sum(c or 0.0 for c in costs),
                duration_s=round(sum(o.duration_s for o in group), 2),
            )
        )
    return rows


def check_request(request: RunRequest) -> None:
    """What a user can get wrong (env, task dirs, skills, model and its key), before anything starts."""
    from skillspark.harbor.envs import environment_config
    from skillspark.harbor.tasks import load_task
    from skillspark.llm.models import check_credentials, resolve_model

    environment_config(request.env)
    for task in request.tasks:
        load_task(task)
    if request.skills is not None:
        skill_folders(request.skills)
        if request.agent is not None:
            raise UserError(
                f"--skills with --agent {request.agent}: skill injection is done by the skillspark agent; "
                "drop --agent, or bake the skills into the task's environment"
            )
    check_skills_mode(request.skills_mode, request.agent)
    if request.agent not in MODEL_FREE_AGENTS:
        check_credentials(resolve_model(request.model, request.api_base))


async def run_tasks(
    request: RunRequest,
    trials_dir: Path,
    on_result: Callable[[TrialOutcome], None] | None = None,
) -> list[TrialOutcome]:
    """Run k trials of every task (at most `parallelism` at once); trials past `--max-cost` are not started.

    A trial whose agent was refused by the endpoint (401/403) stops the batch: the key is wrong for every
    task, so no further trial starts and `AuthenticationFailed` is raised once the running ones end.
    """
    check_request(request)
    async with AsyncExitStack() as stack:
        tasks = request.tasks
        if request.no_task_skills:
            scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="skillspark-noskills-")))
            tasks = [strip_task_skills(t, scratch / str(i)) for i, t in enumerate(tasks)]
        api_base = await stack.enter_async_context(model_endpoint(request.model, request.api_base, request.agent))

        async def trial(task_dir: Path, dollars_left: float | None) -> TrialOutcome:
            spec = agent_spec(request, api_base=api_base, max_cost_usd=dollars_left)
            return await run_trial_retrying(task_dir, spec, env=request.env, trials_dir=trials_dir)

        done = await run_batch([t for t in tasks for _ in range(request.k)], trial,
                               budget=Budget(request.max_cost_usd), parallelism=request.parallelism,
                               on_result=None if on_result is None else lambda _, outcome: on_result(outcome))
    return [outcome for _, outcome in done]


def agent_spec(request: RunConfig, *, api_base: str | None, max_cost_usd: float | None) -> AgentSpec:
    """Our agent with its kwargs, or a Harbor agent (pointed at the embedded server for local/smollm2)."""
    from skillspark.harbor.trials import AgentSpec

    if request.agent is None:
        kwargs: dict[str, Any] = {
            "max_steps": request.max_steps,
            "command_timeout_s": request.command_timeout_s,
            "api_base": api_base,
            "max_cost_usd": max_cost_usd,
            "skills_mode": request.skills_mode.value,
        }
        if request.skills is not None:
            kwargs["skills_dir"] = str(request.skills.resolve())
        return AgentSpec(import_path=AGENT_IMPORT_PATH, model=request.model, kwargs=kwargs | request.agent_kwargs)
    from skillspark.llm.models import resolve_model

    model, kwargs = request.model, dict(request.agent_kwargs)
    if api_base is not None:
        kwargs["api_base"] = api_base
        resolved = resolve_model(request.model)
        if resolved.is_local:  # Harbor's own agents address the embedded server by its litellm name
            model = resolved.litellm_model
    field = "import_path" if ":" in request.agent else "name"
    return AgentSpec(**{field: request.agent}, model=model, kwargs=kwargs)
