"""`skillspark eval` without the CLI: plan the arms, then run k trials per (task, arm, model) in a seeded order.

Why this shape: a plan fixes everything a result depends on (stripped task copies, staged skills and
their digests, the seeded interleaved order) before a trial starts, so `--resume` can compare it with
the first run's and refuse a changed one. Every arm runs the same instruction, timeouts and agent knobs;
only the staged skills differ. Trials go through the one trial runner (`agents.trials`); an infrastructure
failure is retried a bounded number of times and then recorded as `infra_error` (excluded from the statistics).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from skillspark.agents.settings import AgentSettings, BatchSettings
from skillspark.agents.skill_context import SkillsMode, check_skills_mode
from skillspark.agents.trials import MODEL_FREE_AGENTS, model_endpoint, run_batch, run_trial_retrying
from skillspark.core.skill import skills_sha256, stage_skills
from skillspark.errors import UserError
from skillspark.limits import MAX_SEED, MAX_TRIALS_PER_TASK
from skillspark.evaluate.conditions import Condition, explore_cost_usd, skill_sources
from skillspark.evaluate.results import (
    EvalResult,
    append_result,
    config_change,
    read_config,
    read_results,
    repair_results,
    result_status,
    write_config,
)
from skillspark.evaluate.staging import prepare_task, skill_read, tree_sha256
from skillspark.llm.budget import Budget

if TYPE_CHECKING:
    from skillspark.harbor.tasks import TaskInfo
    from skillspark.harbor.trials import AgentSpec, TrialOutcome


class EvalRequest(AgentSettings, BatchSettings):
    """Everything `skillspark eval` (and `skillspark.evaluate_skills`) was asked to do.

    The agent and batch settings are `run`'s; each field's description is its flag's help.
    """

    models: list[str] = Field(min_length=1)
    conditions: list[Condition] = Field(min_length=1)
    k: int = Field(default=3, ge=1, le=MAX_TRIALS_PER_TASK, description="Trials per (task, arm, model).")
    output: Path = Field(description="Folder for results.jsonl, eval.json, report.")
    seed: int = Field(default=0, ge=0, le=MAX_SEED, description=(
        "Seed of the interleaved trial order (and of the permutation test's sampling fallback)."))
    infra_retries: int = Field(default=2, ge=0, description="Retries of a trial the infrastructure failed.")
    resume: bool = Field(default=False, description="Continue OUT: skip finished trials.")


class Cell(BaseModel):
    """One (task, arm): the task copy it runs and the skills staged for it."""

    task: str
    condition: str
    task_dir: Path
    staged_dir: Path | None = None
    skill_sha256: str | None = None
    skill_names: list[str] = Field(default_factory=list)


class Unit(BaseModel):
    """One trial to run."""

    task: str
    condition: str
    model: str
    trial: int

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.task, self.condition, self.model, self.trial)


class EvalPlan(BaseModel):
    """What will run: cells, the seeded order of every trial, what is already done, and eval.json."""

    cells: dict[str, Cell]  # by f"{task}\0{condition}"
    units: list[Unit]  # all trials, interleaved in the seeded order
    done: list[EvalResult] = Field(default_factory=list)
    missing: dict[str, list[str]] = Field(default_factory=dict)  # arm -> tasks without a skill of that arm
    config: dict[str, Any]

    def cell(self, unit: Unit) -> Cell:
        return self.cells[f"{unit.task}\0{unit.condition}"]

    @property
    def todo(self) -> list[Unit]:
        finished = {r.key for r in self.done}
        return [u for u in self.units if u.key not in finished]


def plan_eval(request: EvalRequest, tasks: list[TaskInfo]) -> EvalPlan:
    """Check `--resume` against eval.json, then prepare task copies and staged skills under OUT, in a seeded order.

    The check comes first and copies nothing, so a refused resume leaves the first run's files as they were.
    """
    from skillspark.harbor.tasks import harbor_task_dir

    _check_agent(request)
    out = request.output
    labels = task_labels(tasks)
    sources: dict[tuple[str, str], list[Path]] = {}
    missing: dict[str, list[str]] = {}
    for info, label in zip(tasks, labels, strict=True):
        for condition in request.conditions:
            found = skill_sources(condition, info.name, info.path)
            if found is None:
                missing.setdefault(condition.label, []).append(label)
            else:
                sources[(label, condition.label)] = found
    digests = {key: skills_sha256(found) for key, found in sources.items()}
    n_trials = len(sources) * len(request.models) * request.k
    config = _config(request, tasks, labels, digests, missing, n_trials)
    done = _resume(request, config)

    cells: dict[str, Cell] = {}
    task_dirs = {label: harbor_task_dir(prepare_task(info.path, out / "tasks" / _slug(label)), out / "tasks")
                 for info, label in zip(tasks, labels, strict=True)}
    for (label, arm), found in sources.items():
        staged = out / "skills" / _slug(arm) / _slug(label)
        digest = stage_skills(found, staged)
        cells[f"{label}\0{arm}"] = Cell(task=label, condition=arm, task_dir=task_dirs[label],
                                         staged_dir=staged if digest else None, skill_sha256=digest,
                                         skill_names=[s.name for s in found])
    units = [
        Unit(task=cell.task, condition=cell.condition, model=model, trial=trial)
        for cell in cells.values() for model in request.models for trial in range(request.k)
    ]
    random.Random(request.seed).shuffle(units)
    return EvalPlan(cells=cells, units=units, done=done, missing=missing, config=config)


def task_labels(tasks: list[TaskInfo]) -> list[str]:
    """A task's name in results: its name, or explore's folder name when two tasks share a name."""
    from skillspark.explore.folders import task_folders

    names = [t.name for t in tasks]
    folders = task_folders(tasks)
    return [name if names.count(name) == 1 else folder for name, folder in zip(names, folders, strict=True)]


def _slug(label: str) -> str:
    return re.sub(r"[^\w.-]+", "-", label)


def _check_agent(request: EvalRequest) -> None:
    from skillspark.harbor.envs import environment_config

    environment_config(request.env)
    skill_arms = [c.label for c in request.conditions if c.has_skills]
    check_skills_mode(request.skills_mode, request.agent)
    if request.agent is not None and ":" not in request.agent and skill_arms:
        raise UserError(
            f"--agent {request.agent} with --condition {skill_arms[0]}: a Harbor agent by name reads skills "
            "from inside the environment; use the skillspark agent (no --agent) or an import path module:Class"
        )
    if request.agent is None or (":" not in request.agent and request.agent not in MODEL_FREE_AGENTS):
        from skillspark.llm.models import check_credentials, resolve_model

        for model in request.models:
            check_credentials(resolve_model(model, request.api_base))


def _config(request: EvalRequest, tasks: list[TaskInfo], labels: list[str],
            digests: dict[tuple[str, str], str | None], missing: dict[str, list[str]], n_trials: int) -> dict[str, Any]:
    """eval.json: a fingerprint (what results depend on: compared on --resume) and the rest for readers."""
    task_digests = {label: tree_sha256(info.path) for info, label in zip(tasks, labels, strict=True)}
    fingerprint = {
        "k": request.k, "seed": request.seed, "models": request.models, "agent": request.agent,
        "env": request.env, "max_steps": request.max_steps, "command_timeout_s": request.command_timeout_s,
        "skills_mode": request.skills_mode.value,
        "conditions": {c.label: f"{c.kind}={c.source}" if c.source else c.kind for c in request.conditions},
        "tasks": task_digests,
        "skills": {f"{arm}/{task}": digest for (task, arm), digest in digests.items()},
    }
    return {
        "fingerprint": fingerprint,
        "tasks": [{"task": label, "path": str(info.path), "sha256": task_digests[label]}
                  for info, label in zip(tasks, labels, strict=True)],
        "conditions": [{"label": c.label, "kind": c.kind, "source": str(c.source) if c.source else None,
                        "teacher_cost_usd": explore_cost_usd(c)} for c in request.conditions],
        "missing_skills": missing,
        "total_trials": n_trials,
        "parallelism": request.parallelism,
        "max_cost_usd": request.max_cost_usd,
        "infra_retries": request.infra_retries,
        "updated": datetime.now(UTC).isoformat(),
    }


def _resume(request: EvalRequest, config: dict[str, Any]) -> list[EvalResult]:
    """Results already finished (with --resume, same configuration); refuse mixing runs otherwise."""
    out = request.output
    done = read_results(out)
    if not request.resume:
        if done or read_config(out) is not None:
            raise UserError(f"--output {out}: already holds an eval; pass --resume to continue it, or a new --output")
        return []
    old = read_config(out)
    if old is not None and (change := config_change(old["fingerprint"], config["fingerprint"])):
        raise UserError(f"--resume {out}: the configuration changed since the first run ({change}); "
                        "rerun with the first run's tasks, skills and flags, or use a new --output")
    return repair_results(out)


async def run_eval(
    request: EvalRequest,
    plan: EvalPlan,
    on_result: Callable[[EvalResult], None] | None = None,
) -> list[EvalResult]:
    """Run the plan's unfinished trials (`parallelism` at once, in its order); return the new results.

    Each result is appended to results.jsonl (fsynced) as it finishes. Trials past `--max-cost` (counting
    what a resumed eval already spent) are not started. A 401/403 from the endpoint stops the eval.
    """
    out = request.output
    write_config(out, plan.config)
    budget = Budget(request.max_cost_usd, spent_usd=sum(r.cost_usd or 0.0 for r in plan.done))
    new: list[EvalResult] = []

    async with AsyncExitStack() as stack:
        endpoints = {m: await stack.enter_async_context(model_endpoint(m, request.api_base, request.agent))
                     for m in request.models}

        async def trial(unit: Unit, dollars_left: float | None) -> TrialOutcome:
            cell = plan.cell(unit)
            spec = agent_spec(request, unit.model, cell.staged_dir, endpoints[unit.model], dollars_left)
            return await run_trial_retrying(cell.task_dir, spec, env=request.env, trials_dir=out / "trials",
                                            infra_retries=request.infra_retries)

        def record(unit: Unit, outcome: TrialOutcome) -> None:
            result = _result(unit, plan.cell(unit), outcome, request.skills_mode)
            append_result(out, result)
            new.append(result)
            if on_result is not None:
                on_result(result)

        await run_batch(plan.todo, trial, budget=budget, parallelism=request.parallelism, on_result=record)
    return new


def agent_spec(request: EvalRequest, model: str, staged: Path | None, api_base: str | None,
               remaining: float | None) -> AgentSpec:
    """The same agent and knobs for every arm; only `skills_dir` (the staged folder) differs."""
    from skillspark.agents.runner import RunConfig
    from skillspark.agents.runner import agent_spec as run_agent_spec

    extra = {"skills_dir": str(staged.resolve())} if staged is not None and request.agent else {}
    run_request = RunConfig(
        model=model, agent=request.agent, skills=staged if request.agent is None else None,
        max_steps=request.max_steps, command_timeout_s=request.command_timeout_s, agent_kwargs=extra,
        skills_mode=request.skills_mode,
    )
    return run_agent_spec(run_request, api_base=api_base, max_cost_usd=remaining)


def _result(unit: Unit, cell: Cell, outcome: TrialOutcome, skills_mode: SkillsMode) -> EvalResult:
    return EvalResult(
        task=unit.task, condition=unit.condition, model=unit.model, trial=unit.trial, skills_mode=skills_mode.value,
        reward=outcome.reward, passed=outcome.passed, status=result_status(outcome.status, outcome.reward),
        tokens_in=outcome.n_input_tokens or 0, tokens_out=outcome.n_output_tokens or 0,
        cost_usd=outcome.cost_usd, duration_s=round(outcome.duration_s, 3),
        skill_sha256=cell.skill_sha256, skill_read=skill_read(outcome.agent_commands, cell.skill_names),
        trial_dir=str(outcome.trial_dir),
    )
