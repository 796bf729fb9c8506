"""`skillspark explore ...` and `skillspark skills validate DIR`.

The explore flags become `ExploreSettings`; `explore.service.explore_skills` does the work. Heavy imports
(harbor, litellm) happen inside the commands so `skillspark --help` stays fast.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from skillspark.errors import UserError
from skillspark.explore.settings import ExploreSettings
from skillspark.limits import MAX_PARALLELISM, MAX_SEED
from skillspark.params import Dashboard, default_of, field_option, list_values, output_folder
from skillspark.pdi.text import Method

skills_app = typer.Typer(no_args_is_help=True)
BUDGET_EXIT_CODE = 3  # the run stopped because --max-cost was spent; --resume with a higher one continues


@skills_app.command("validate")
def validate(directory: Annotated[Path, typer.Argument(help="A skill folder, or a folder of skill folders.")]) -> None:
    """Check SKILL.md folders against the Agent Skills spec; exit 2 when any is invalid."""
    from skillspark.core.skill import Skill, skill_dirs

    folders = skill_dirs(directory)
    problems = [p for folder in folders for p in Skill(path=folder).problems()]
    console = Console()
    if not problems:
        console.print(f"{len(folders)} skill(s) valid")
        return
    table = Table("skill", "field", "problem", title="SKILL.md problems")
    for p in problems:
        table.add_row(p.skill, p.field, p.message)
    console.print(table)
    bad = len({p.skill for p in problems})
    raise UserError(f"{bad} of {len(folders)} skill(s) under {directory} are invalid; fix the fields listed above")


def _flag(field: str, *names: str, **extra):
    return field_option(ExploreSettings, field, *names, **extra)


def _default(field: str):
    return default_of(ExploreSettings, field)


def explore(
    paths: Annotated[list[Path], typer.Argument(help="Task dirs, or dirs holding task dirs.")],
    model: Annotated[str | None, typer.Option(
        "--model", "-m", help="Teacher model (agent and distiller); default: $SKILLSPARK_MODEL, else local/smollm2.")
    ] = None,
    summary_model: Annotated[str | None, _flag("summary_model", "--summary-model")] = _default("summary_model"),
    api_base: Annotated[str | None, _flag("api_base", "--api-base")] = _default("api_base"),
    max_attempts: Annotated[int, _flag("max_attempts", "--max-attempts")] = _default("max_attempts"),
    parallelism: Annotated[int, _flag("parallelism", "--parallelism", "-p")] = _default("parallelism"),
    pdi: Annotated[bool, _flag("pdi", "--pdi/--no-pdi")] = _default("pdi"),
    pdi_observe_only: Annotated[bool, _flag("pdi_observe_only", "--pdi-observe-only/--no-pdi-observe-only")] = _default(
        "pdi_observe_only"),
    pdi_method: Annotated[Method, _flag("pdi_method", "--pdi-method")] = _default("pdi_method"),
    limit: Annotated[int | None, _flag("limit", "--limit")] = _default("limit"),
    tasks: Annotated[list[str] | None, typer.Option("--tasks", help="Only the task of this name (repeat).")] = None,
    shuffle: Annotated[bool, typer.Option(help="Shuffle the task order (its seed is recorded).")] = False,
    seed: Annotated[int | None, typer.Option(
        min=0, max=MAX_SEED, help="Seed for --shuffle: the same seed gives the same order.")] = None,
    timeout_multiplier: Annotated[float, _flag("timeout_multiplier", "--timeout-multiplier")] = _default(
        "timeout_multiplier"),
    resume: Annotated[bool, _flag("resume", "--resume/--no-resume")] = _default("resume"),
    output: Annotated[Path, _flag("output", "--output", "-o", callback=output_folder)] = _default("output"),
    env: Annotated[str | None, typer.Option(
        "--env", help="Environment: local (bwrap sandbox), docker, daytona, modal, ...; "
        "default: $SKILLSPARK_ENV, else local.")] = None,
    llm_timeout: Annotated[float | None, _flag("llm_timeout_s", "--llm-timeout")] = _default("llm_timeout_s"),
    llm_retries: Annotated[int | None, _flag("llm_retries", "--llm-retries")] = _default("llm_retries"),
    max_cost: Annotated[float | None, _flag("max_cost_usd", "--max-cost", help_suffix=(
        f" Exit code {BUDGET_EXIT_CODE}."))] = _default("max_cost_usd"),
    dashboard: Dashboard = False,
) -> None:
    """Explore tasks with a teacher model: attempts, memo, PDI interventions, SKILL.md on success."""
    from skillspark.config import get_settings
    from skillspark.dashboard.server import beside
    from skillspark.explore.service import explore_skills

    if seed is not None and not shuffle:
        raise UserError(f"--seed {seed} only orders a shuffled run; add --shuffle, or drop --seed")
    shuffle_seed = (seed if seed is not None else random.randrange(2**31)) if shuffle else None
    defaults = get_settings()
    settings = ExploreSettings(
        model=model or defaults.model, summary_model=summary_model, api_base=api_base, max_attempts=max_attempts,
        parallelism=parallelism, pdi=pdi, pdi_observe_only=pdi_observe_only, pdi_method=pdi_method,
        timeout_multiplier=timeout_multiplier, resume=resume, output=output, env=env or defaults.env,
        llm_timeout_s=llm_timeout, llm_retries=llm_retries, max_cost_usd=max_cost, shuffle_seed=shuffle_seed,
        tasks=list_values(tasks, "--tasks"), limit=limit,
    )
    try:
        with beside(dashboard, output):
            summaries = explore_skills(paths, settings, console=Console())
    except KeyboardInterrupt:
        Console(stderr=True).print(f"cancelled: finished attempts are kept in {output}; "
                                   "run again with --resume to continue")
        raise typer.Exit(130) from None
    _end_if_budget_spent(summaries, settings)


def _end_if_budget_spent(summaries, settings) -> None:
    """One line and exit code 3 when --max-cost stopped any task (its reason says where)."""
    from skillspark.explore.spend import SpendLedger

    stopped = [s.task_name for s in summaries if s.state == "budget_exhausted"]
    if not stopped:
        return
    spent = SpendLedger(settings.output, settings.max_cost_usd, resume=True).budget.spent_usd
    Console(stderr=True).print(
        f"budget: ${spent:.4f} of --max-cost ${settings.max_cost_usd:.4f} spent; {len(stopped)} task(s) stopped "
        f"({', '.join(stopped)}); run again with --resume and a higher --max-cost to continue", soft_wrap=True)
    raise typer.Exit(BUDGET_EXIT_CODE)
