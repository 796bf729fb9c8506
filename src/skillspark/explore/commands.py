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
from skillspark.limits import MAX_PARALLELISM, MAX_SEED
from skillspark.params import output_folder

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


def explore(
    paths: Annotated[list[Path], typer.Argument(help="Task dirs, or dirs holding task dirs.")],
    model: Annotated[str, typer.Option(help="Teacher model (agent and distiller).")] = "local/smollm2",
    summary_model: Annotated[str | None, typer.Option(help="Model that rewrites the memo (default: --model).")] = None,
    api_base: Annotated[str | None, typer.Option(help="OpenAI-compatible base URL for the models.")] = None,
    max_retries: Annotated[int, typer.Option(min=1, help="Attempts per task.")] = 3,
    parallelism: Annotated[int, typer.Option(min=1, max=MAX_PARALLELISM, help="Tasks explored at once.")] = 1,
    pdi: Annotated[bool, typer.Option("--pdi/--no-pdi", help="Online PDI proxy and interventions.")] = True,
    pdi_observe_only: Annotated[bool, typer.Option(help="Log PDI snapshots but never intervene.")] = False,
    pdi_method: Annotated[str, typer.Option(help="token_overlap or js_divergence.")] = "token_overlap",
    limit: Annotated[int | None, typer.Option(min=1, help="Explore at most N tasks.")] = None,
    tasks: Annotated[str | None, typer.Option(help="Only these task names, comma-separated.")] = None,
    shuffle: Annotated[bool, typer.Option(help="Shuffle the task order (its seed is recorded).")] = False,
    seed: Annotated[int | None, typer.Option(
        min=0, max=MAX_SEED, help="Seed for --shuffle: the same seed gives the same order.")] = None,
    timeout_multiplier: Annotated[float, typer.Option(min=0.01, help="Scale the tasks' timeouts.")] = 1.0,
    resume: Annotated[bool, typer.Option(help="Continue a previous run in --output.")] = False,
    output: Annotated[Path, typer.Option(
        help="Output folder (one subfolder per task).", callback=output_folder)] = Path("explore-out"),
    env: Annotated[str, typer.Option(help="Environment: local (bwrap sandbox), docker, daytona, modal, ...")] = "local",
    llm_timeout: Annotated[float | None, typer.Option(
        min=1, help="Seconds per summarizer/distiller call (default 120; 60 for local/smollm2).")] = None,
    llm_retries: Annotated[int | None, typer.Option(
        min=0, help="Retries of a failed summarizer/distiller call (default 4; 0 for local/smollm2).")] = None,
    max_cost: Annotated[float | None, typer.Option(
        "--max-cost", min=0, help="Stop all model calls (agent, summarizer, distiller) once $N is spent in this "
        f"output folder (--resume counts earlier spend); exit code {BUDGET_EXIT_CODE}.")] = None,
    dashboard: Annotated[bool, typer.Option(
        "--dashboard", help="Serve the live dashboard of --output on 127.0.0.1 while the run lasts.")] = False,
) -> None:
    """Explore tasks with a teacher model: attempts, memo, PDI interventions, SKILL.md on success."""
    from skillspark.dashboard.server import beside
    from skillspark.explore.loop import ExploreSettings
    from skillspark.explore.service import explore_skills

    if seed is not None and not shuffle:
        raise UserError(f"--seed {seed} only orders a shuffled run; add --shuffle, or drop --seed")
    shuffle_seed = (seed if seed is not None else random.randrange(2**31)) if shuffle else None
    settings = ExploreSettings(
        model=model, summary_model=summary_model, api_base=api_base, max_retries=max_retries,
        parallelism=parallelism, pdi=pdi, pdi_observe_only=pdi_observe_only, pdi_method=pdi_method,
        timeout_multiplier=timeout_multiplier, resume=resume, output=output, env=env,
        llm_timeout_s=llm_timeout, llm_retries=llm_retries, max_cost_usd=max_cost, shuffle_seed=shuffle_seed,
        tasks=[t.strip() for t in tasks.split(",") if t.strip()] if tasks else None, limit=limit,
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
