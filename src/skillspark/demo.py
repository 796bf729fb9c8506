"""`skillspark demo`: the main job on embedded defaults, end to end on any Linux machine.

It checks the bundled example tasks (static checks, build, oracle 1.0, nop below 1.0), explores the
easy ones with the embedded model (three attempts each), and ends with what a user needs to judge the run:
per task the attempts, the reward path, the PDI snapshots and interventions, and where its SKILL.md
is, or why none was made. Last, a positive control of the whole measuring path: `skillspark eval` of the
embedded student on the decisive-skill suite (examples/decisive-tasks: each task is solvable only with
the fact its curated skill holds), `none` against `curated` (and `generated` where exploration made a
skill for one of those tasks), skills inline in the prompt. A path that cannot find that planted effect
cannot be trusted to find a real one.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from skillspark.agents.skill_context import SkillsMode
from skillspark.config import DEFAULT_MODEL, get_settings
from skillspark.errors import UserError
from skillspark.limits import MAX_SEED
from skillspark.params import list_values, output_folder

if TYPE_CHECKING:
    from rich.console import Console

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples" / "tasks"
DECISIVE_DIR = Path(__file__).resolve().parents[2] / "examples" / "decisive-tasks"
DEFAULT_DIFFICULTIES = ["trivial", "easy"]
EVAL_K = 2
# One command solves a decisive task (the verifier runs whether or not the model submits); a second call leaves
# room to fix a malformed reply. More calls only lengthen the `none` arm, which cannot succeed.
EVAL_MAX_STEPS = 2


def _examples_dir(tasks_dir: Path | None, bundled: Path = EXAMPLES_DIR, flag: str = "--tasks-dir") -> Path:
    """The bundled tasks (from a source checkout), or the folder the user named."""
    for candidate in ([tasks_dir] if tasks_dir else [bundled, Path.cwd() / "examples" / bundled.name]):
        if candidate.is_dir():
            return candidate
    where = tasks_dir or bundled
    raise UserError(f"tasks not found at {where}; run from a skillspark checkout or pass {flag} DIR")


def _difficulty(task_dir: Path) -> str:
    from skillspark.harbor.tasks import load_task

    metadata = load_task(task_dir).config.metadata or {}
    return str(metadata.get("difficulty", "")).lower()


def _snapshots(task_output: Path) -> list[dict]:
    """The PDI snapshots the explore loop logged for one task (empty when it logged none)."""
    from skillspark.pdi.evidence import read_jsonl

    log = task_output / "trajectory.jsonl"
    if not log.exists():
        return []
    return [r for _line, r in read_jsonl(log) if r.get("type") == "pdi_snapshot"]


def _summary_lines(summaries: list) -> list[str]:
    """Per task: attempts and reward path, PDI snapshots, interventions, and the SKILL.md or why none.

    Plain lines rather than a table: paths and snapshot lists stay whole on a narrow terminal.
    """
    lines = []
    for s in summaries:
        snapshots = _snapshots(Path(s.output_dir)) if s.output_dir else []
        pdi = ", ".join(f"step {x['step']}: d={x['weighted_pdi']:+.2f} {x.get('level') or 'no trigger'}"
                        for x in snapshots) or "none (no reflect step)"
        used = [f"attempt {i + 1}: {level}" for i, level in enumerate(s.interventions) if level]
        if snapshots and snapshots[-1].get("level") and not s.success:
            used.append("the last trigger came after the last attempt")
        rewards = " -> ".join(f"{r:g}" for r in s.reward_trajectory) or "-"
        result = f"SKILL.md: {s.skill_path}" if s.skill_path else f"no SKILL.md: {s.reason or s.state}"
        lines += [
            f"[bold]{s.task_name}[/bold]: {s.state} after {s.total_attempts} attempt(s); rewards {rewards}",
            f"  PDI snapshots: {pdi}",
            f"  interventions: {', '.join(used) or 'none'}",
            f"  {result}",
        ]
    return lines


def _eval_stage(task_dirs: list[Path], explore_dir: Path, out: Path, *, student: str, env: str, seed: int,
                console: Console) -> None:
    """A/B the student on the decisive suite through `evaluate.service.evaluate`, the function behind `skillspark eval`.

    `none` against `curated`, plus `generated` when exploration made a SKILL.md for one of these tasks;
    skills inline, every arm with the same steps and prompts. The previous demo's eval in `out` is replaced.
    """
    from skillspark.evaluate.conditions import generated_folder, parse_conditions
    from skillspark.evaluate.runner import EvalRequest
    from skillspark.evaluate.service import evaluate
    from skillspark.harbor.tasks import load_task

    conditions = ["none", "curated"]
    if any(generated_folder(explore_dir, load_task(d).name, d) for d in task_dirs):
        conditions.append(f"generated={explore_dir}")
    arms = " vs ".join(c.split("=")[0] for c in conditions)
    console.rule(f"4. positive control: {student} on {len(task_dirs)} decisive-skill task(s), {arms}, "
                 f"skills inline, k = {EVAL_K}")
    shutil.rmtree(out, ignore_errors=True)
    # two trials at once: one builds its sandbox or runs its verifier while the other waits for the model
    request = EvalRequest(models=[student], conditions=parse_conditions(conditions), k=EVAL_K, output=out, env=env,
                          seed=seed, max_steps=EVAL_MAX_STEPS, skills_mode=SkillsMode.inline, parallelism=2)
    evaluate(task_dirs, request, console=console)


def demo(
    model: Annotated[str | None, typer.Option(
        "--model", "-m", help="Teacher model (default: $SKILLSPARK_MODEL, else the embedded local/smollm2).")] = None,
    tasks_dir: Annotated[Path | None, typer.Option(help="Tasks to use instead of the bundled examples.")] = None,
    difficulty: Annotated[list[str], typer.Option(
        "--difficulty", help="Explore only tasks of this difficulty (repeat), or 'all'.")] = DEFAULT_DIFFICULTIES,
    max_attempts: Annotated[int, typer.Option(min=1, help="Attempts per task (the first try counts).")] = 3,
    output: Annotated[Path, typer.Option(
        "--output", "-o", help="Where the check report and exploration go.", callback=output_folder)
    ] = Path("demo-output"),
    skip_check: Annotated[bool, typer.Option(help="Do not run oracle/nop checks first.")] = False,
    env: Annotated[str | None, typer.Option(
        help="Environment: local, docker, ... (default: $SKILLSPARK_ENV, else local).")] = None,
    student: Annotated[str, typer.Option(help="Student model of the last stage's A/B eval.")] = DEFAULT_MODEL,
    seed: Annotated[int, typer.Option(min=0, max=MAX_SEED, help="Seed of the A/B eval's trial order.")] = 0,
    ab_tasks_dir: Annotated[Path | None, typer.Option(
        help="Tasks of the last stage's A/B eval instead of the bundled decisive-skill suite.")] = None,
) -> None:
    """Check the example tasks, explore the easy ones with the embedded model, summarize, run the positive control."""
    from rich.console import Console

    from skillspark.explore.loop import explore_tasks
    from skillspark.explore.progress import ProgressView
    from skillspark.explore.settings import ExploreSettings
    from skillspark.harbor.envs import preflight_environment
    from skillspark.harbor.tasks import find_task_dirs
    from skillspark.taskgen.config import CheckConfig
    from skillspark.taskgen.service import check_tasks

    console = Console()
    defaults = get_settings()
    env_name = env or defaults.env
    model = model or defaults.model
    preflight_environment(env_name)
    task_dirs = find_task_dirs([_examples_dir(tasks_dir)])
    ab_dirs = find_task_dirs([_examples_dir(ab_tasks_dir, DECISIVE_DIR, "--ab-tasks-dir")])
    started = time.monotonic()

    if not skip_check:
        console.rule("1. checking the tasks: static checks, build, oracle must reach 1.0, nop must stay below")
        output.mkdir(parents=True, exist_ok=True)
        report = check_tasks(task_dirs, CheckConfig(env=env_name, trials_dir=output / "check-trials", parallelism=2,
                                                    json_path=output / "check-report.json"), console=console)
        valid = {Path(c.path).resolve() for c in report.tasks if c.verdict == "valid"}
        task_dirs = [d for d in task_dirs if d.resolve() in valid]

    wanted = {d.lower() for d in list_values(difficulty, "--difficulty") or []}
    if "all" not in wanted:
        task_dirs = [d for d in task_dirs if _difficulty(d) in wanted]
    if not task_dirs:
        raise UserError(f"no valid task of difficulty {', '.join(sorted(wanted))} to explore; try --difficulty all")

    console.rule(f"2. exploring {len(task_dirs)} task(s) with {model}, up to {max_attempts} attempts each")
    # two tasks at once, as in the last stage: one runs its sandbox while the other waits for the model
    settings = ExploreSettings(model=model, max_attempts=max_attempts, output=output / "explore", env=env_name,
                               parallelism=2)
    view = ProgressView([d.name for d in task_dirs], max_attempts)
    try:
        with view:
            summaries = asyncio.run(explore_tasks(task_dirs, settings, on_progress=view.update))
    except KeyboardInterrupt:
        console.print(f"cancelled: finished attempts are kept in {settings.output}")
        raise typer.Exit(130) from None

    console.print()
    console.rule("3. summary")
    for line in _summary_lines(summaries):
        console.print(line, soft_wrap=True)
    made = sum(1 for s in summaries if s.skill_path)
    console.print(
        f"{made}/{len(summaries)} task(s) produced a SKILL.md; logs, memos and trajectories are in "
        f"{settings.output}; total {time.monotonic() - started:.0f} s. Point --model at a stronger model "
        "(any litellm model string) for real skills."
    )
    eval_started = time.monotonic()
    _eval_stage(ab_dirs, settings.output.resolve(), (output / "eval").resolve(), student=student, env=env_name,
                seed=seed, console=console)
    now = time.monotonic()
    console.print(f"demo done in {now - started:.0f} s (A/B stage {now - eval_started:.0f} s)")
