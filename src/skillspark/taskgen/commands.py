"""`skillspark tasks ...`: check Harbor task directories before anyone explores them."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Annotated

import typer

from skillspark.errors import UserError
from skillspark.limits import MAX_PARALLELISM, MAX_SEED
from skillspark.params import output_folder

app = typer.Typer(no_args_is_help=True)


@app.command("check")
def check(
    paths: Annotated[list[Path], typer.Argument(help="Task directories, or directories of task directories.")],
    json_path: Annotated[Path | None, typer.Option("--json", help="Also write the report as JSON to this file.")] = None,
    parallelism: Annotated[int, typer.Option("--parallelism", "-p", min=1, max=MAX_PARALLELISM,
                                             help="Tasks checked at once.")] = 1,
    env: Annotated[str | None, typer.Option("--env", help="local (default), docker, daytona, modal, ...")] = None,
    trials_dir: Annotated[
        Path | None, typer.Option("--trials-dir", help="Where Harbor trial dirs go (default: JOBS_DIR/tasks-check-TIME).")
    ] = None,
    timeout_multiplier: Annotated[
        float, typer.Option("--timeout-multiplier", min=0.01, help="Scale every task timeout.")
    ] = 1.0,
    rerun_failed: Annotated[bool, typer.Option(
        "--rerun-failed/--no-rerun-failed",
        help="Run a failing oracle whose output names no cause once more, to tell flaky from broken.")] = True,
) -> None:
    """Static checks, build, oracle (must reach 1.0) and nop (must stay below 1.0) for each task.

    Each failing task gets a failure class: offline-unreachable, unsupported-base, needs-secret, timeout,
    flaky, broken or ours (a skillspark error).

    Exit 0: every task is valid.

    Exit 1: some task is broken (oracle below 1.0, nop at 1.0) or hit an infrastructure failure.

    Exit 2: some input is bad (missing file, malformed task.toml, failing Dockerfile, unsupported image).
    """
    from rich.console import Console

    from skillspark.config import get_settings
    from skillspark.harbor.envs import preflight_environment
    from skillspark.harbor.tasks import find_task_dirs
    from skillspark.taskgen.check import check_tasks
    from skillspark.taskgen.progress import CheckProgress
    from skillspark.taskgen.report import check_json_target, print_report, write_json

    settings = get_settings()
    env_name = env or settings.env
    preflight_environment(env_name)  # a bad or unusable --env is one line and exit 2, before any work
    if json_path is not None:
        check_json_target(json_path)
    run_dir = trials_dir or settings.jobs_dir / time.strftime("tasks-check-%Y%m%d-%H%M%S")
    console = Console()
    task_dirs = find_task_dirs(paths)
    try:
        with CheckProgress(Console(stderr=True), total=len(task_dirs)) as progress:
            report = asyncio.run(
                check_tasks(
                    task_dirs,
                    env=env_name,
                    trials_dir=run_dir,
                    parallelism=parallelism,
                    timeout_multiplier=timeout_multiplier,
                    rerun_failed=rerun_failed,
                    on_progress=progress.update,
                )
            )
    except KeyboardInterrupt:
        Console(stderr=True).print(f"interrupted; finished trials are in {run_dir}")
        raise typer.Exit(130) from None
    print_report(report, console)
    if json_path is not None:
        write_json(report, json_path)
    raise typer.Exit(report.exit_code)


@app.command("audit")
def audit(
    paths: Annotated[list[Path], typer.Argument(
        exists=True, help="Task directories, or directories of task directories.")],
    json_path: Annotated[Path | None, typer.Option("--json", help="Also write the report as JSON to this file.")] = None,
    gates: Annotated[
        str | None, typer.Option("--gates", help="Comma-separated gates to run (default: all of them).")
    ] = None,
    references: Annotated[
        list[Path] | None, typer.Option("--reference", help="A task (or dir of tasks) no audited task may nearly copy.")
    ] = None,
    parallelism: Annotated[int, typer.Option("--parallelism", "-p", min=1, max=MAX_PARALLELISM,
                                             help="Tasks audited at once.")] = 1,
    env: Annotated[str | None, typer.Option("--env", help="local (default), docker, daytona, modal, ...")] = None,
    trials_dir: Annotated[
        Path | None, typer.Option("--trials-dir", help="Where trial dirs go (default: JOBS_DIR/tasks-audit-TIME).")
    ] = None,
    timeout_multiplier: Annotated[
        float, typer.Option("--timeout-multiplier", min=0.01, help="Scale every task timeout.")
    ] = 1.0,
) -> None:
    """Run the quality gates on each task: schema, lint, oracle, nop, mutants, leak, determinism, offline, dedup.

    Exit 0: every task is accepted. Exit 1: some task is rejected. Exit 2: bad input (unknown gate, bad --env).
    """
    from rich.console import Console

    from skillspark.config import get_settings
    from skillspark.harbor.envs import preflight_environment
    from skillspark.harbor.tasks import find_task_dirs
    from skillspark.taskgen.audit import print_report, write_json
    from skillspark.taskgen.gates import audit_tasks, parse_gates
    from skillspark.taskgen.progress import CheckProgress
    from skillspark.taskgen.report import check_json_target

    chosen = parse_gates(gates)
    settings = get_settings()
    env_name = env or settings.env
    preflight_environment(env_name)
    if json_path is not None:
        check_json_target(json_path)
    work_dir = trials_dir or settings.jobs_dir / time.strftime("tasks-audit-%Y%m%d-%H%M%S")
    task_dirs = find_task_dirs(paths)
    reference_dirs = find_task_dirs(references) if references else []
    try:
        with CheckProgress(Console(stderr=True), total=len(task_dirs)) as progress:
            report = asyncio.run(audit_tasks(
                task_dirs, gates=chosen, env=env_name, references=reference_dirs, work_dir=work_dir.resolve(),
                parallelism=parallelism, timeout_multiplier=timeout_multiplier, on_progress=progress.update,
            ))
    except KeyboardInterrupt:
        Console(stderr=True).print(f"interrupted; finished trials are in {work_dir}")
        raise typer.Exit(130) from None
    print_report(report, Console())
    if json_path is not None:
        write_json(report, json_path)
    raise typer.Exit(report.exit_code)


def _print_event(stage: str, fields: dict) -> None:
    """One stderr line per stage of `generate` / `vary`, for a person watching."""
    from rich.console import Console

    detail = ", ".join(f"{k}={v}" for k, v in fields.items() if k not in ("candidate", "problems") and v not in (None, []))
    Console(stderr=True, highlight=False).print(f"[dim]candidate {fields.get('candidate', '-')}: {stage} {detail}[/dim]",
                                                soft_wrap=True)


def _references(pinned: list[Path], library: Path | None, idea, cache_dir: Path) -> list:
    """--reference-task dirs first (pinned), then the library's best matches for the idea."""
    from skillspark.harbor.tasks import load_task
    from skillspark.taskgen.library import Reference, TaskLibrary, index_path_for

    refs = []
    for path in pinned:
        if not path.is_dir():
            raise UserError(f"--reference-task {path}: no such directory; pass a Harbor task folder")
        info = load_task(path)
        refs.append(Reference(name=info.name, path=str(path.resolve())))
    if library is not None:
        found = TaskLibrary(library, index_path_for(cache_dir, library)).search(
            idea.search_text(), k=3, exclude={r.path for r in refs})
        refs += found
    return refs


@app.command("generate")
def generate(
    prompt_file: Annotated[Path, typer.Option("--prompt-file", help="Task idea: SPARK PromptSpec JSON or ours.")],
    output: Annotated[Path, typer.Option("--output", help="Accepted tasks go here; rejected to DIR/_rejected.",
                                         callback=output_folder)],
    model: Annotated[str, typer.Option("--model", help="Model that writes the blueprints.")] = "local/smollm2",
    n: Annotated[int, typer.Option("-n", min=1, help="Candidate tasks to make from the idea.")] = 1,
    library: Annotated[Path | None, typer.Option("--library", help="Folder of tasks to retrieve references from.")] = None,
    reference_task: Annotated[list[Path] | None, typer.Option(
        "--reference-task", help="A task to use as reference (repeatable).")] = None,
    max_rounds: Annotated[int, typer.Option("--max-rounds", min=1, help="Blueprint versions per candidate.")] = 3,
    max_cost: Annotated[float | None, typer.Option("--max-cost", min=0, help="Stop model calls once $N is spent "
                                                   "in this run (--resume counts earlier spend); exit code 3.")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the latest run of this idea in --output.")] = False,
    parallelism: Annotated[int, typer.Option("--parallelism", "-p", min=1, max=MAX_PARALLELISM,
                                             help="Candidates at once.")] = 1,
    seed: Annotated[int, typer.Option("--seed", min=0, max=MAX_SEED,
                                      help="Seed of candidate 0 (candidate i gets seed + i).")] = 0,
    api_base: Annotated[str | None, typer.Option("--api-base", help="OpenAI-compatible base URL.")] = None,
    env: Annotated[str | None, typer.Option("--env", help="Where the gates run: local (default), docker, ...")] = None,
    timeout_multiplier: Annotated[float, typer.Option("--timeout-multiplier", min=0.01)] = 1.0,
    llm_retries: Annotated[int | None, typer.Option(
        "--llm-retries", min=0, help="Retries of a failed model call (default 4; 0 for local/smollm2).")] = None,
    calibrate: Annotated[str | None, typer.Option(
        "--calibrate", help="Extra gate: a reference agent with this model must pass some but not all trials.")] = None,
    calibrate_agent: Annotated[str | None, typer.Option(
        "--calibrate-agent", help="Harbor agent (name or import path) for --calibrate instead of ours.")] = None,
    calibrate_k: Annotated[int, typer.Option("--calibrate-k", min=1, help="Trials of the reference agent.")] = 3,
    calibrate_band: Annotated[str, typer.Option(
        "--calibrate-band", help="Accepted pass rates LOW,HIGH of the reference agent.")] = "0.1,0.9",
) -> None:
    """Build Harbor tasks from an idea: blueprint, critique, render, gates, repair; accept or reject.

    Exit 0: every candidate accepted. Exit 1: some rejected (see DIR/_rejected/*/REJECTED.json).
    Exit 2: bad input or an unreachable model. Exit 3: --max-cost spent (--resume continues).
    """
    from skillspark.config import get_settings
    from skillspark.harbor.envs import preflight_environment
    from skillspark.llm.models import check_credentials, resolve_model
    from skillspark.taskgen import audit_result
    from skillspark.taskgen.generate_run import GenerateSettings
    from skillspark.taskgen.generate_run import generate as run_generate
    from skillspark.taskgen.idea import load_idea

    settings = get_settings()
    idea = load_idea(prompt_file)
    env_name = env or settings.env
    preflight_environment(env_name)
    check_credentials(resolve_model(model, api_base))
    references = _references(reference_task or [], library, idea, settings.cache_dir)
    calibration = None
    if calibrate is not None:
        from skillspark.taskgen.calibrate import Calibration, parse_band

        low, high = parse_band(calibrate_band)
        check_credentials(resolve_model(calibrate, api_base))
        calibration = Calibration(model=calibrate, agent=calibrate_agent, k=calibrate_k, low=low, high=high,
                                  env=env_name, api_base=api_base)
    options = GenerateSettings(model=model, api_base=api_base, n=n, max_rounds=max_rounds, max_cost_usd=max_cost,
                               parallelism=parallelism, seed=seed, llm_retries=llm_retries)
    gates = audit_result.default_gate_runner(env_name, timeout_multiplier)
    try:
        outcome = asyncio.run(run_generate(idea, prompt_file, options, output, references=references, resume=resume,
                                           gate_runner=gates, on_event=_print_event, calibration=calibration))
    except KeyboardInterrupt:
        from rich.console import Console

        Console(stderr=True).print(f"interrupted; run again with --resume to continue ({output}/_runs)")
        raise typer.Exit(130) from None
    _print_generate_summary(outcome, output)
    if outcome.stopped_by:
        raise UserError(outcome.stopped_by)
    raise typer.Exit(outcome.exit_code)


def _print_generate_summary(outcome, output: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"skillspark tasks generate (run {outcome.state.run_id})")
    for column in ("candidate", "task", "verdict", "rounds", "reason"):
        table.add_column(column, overflow="fold")
    style = {"accepted": "green", "rejected": "red", "stopped": "yellow", "pending": "yellow"}
    for c in outcome.state.candidates:
        where = str(output / c.promoted_to) if c.promoted_to and c.status == "accepted" else (c.name or "-")
        table.add_row(str(c.index), where, f"[{style[c.status]}]{c.status}[/]", str(c.rounds), c.reason or "-")
    console = Console()
    console.print(table)
    console.print(f"audit trail: {outcome.run_dir}; spent ${outcome.state.spent_usd:.4f}", soft_wrap=True)


@app.command("vary")
def vary(
    task_dir: Annotated[Path, typer.Argument(help="A task made by `tasks generate` (it keeps its blueprint).")],
    n: Annotated[int, typer.Option("-n", min=1, help="Instances to make.")] = 3,
    seed: Annotated[int, typer.Option("--seed", min=0, max=MAX_SEED, help="Same seed, same instances, byte for byte.")] = 0,
    output: Annotated[Path, typer.Option("--output", help="Accepted instances go here.",
                                         callback=output_folder)] = Path("varied-tasks"),
    model: Annotated[str | None, typer.Option("--model", help="Model proposing parameter values "
                                              "(default: seeded draws).")] = None,
    api_base: Annotated[str | None, typer.Option("--api-base", help="OpenAI-compatible base URL.")] = None,
    env: Annotated[str | None, typer.Option("--env", help="Where the gates run: local (default), docker, ...")] = None,
    timeout_multiplier: Annotated[float, typer.Option("--timeout-multiplier", min=0.01)] = 1.0,
) -> None:
    """New instances of a generated task: new seed and parameter values, same tests and oracle, all gated.

    Exit 0: every instance accepted. Exit 1: some rejected (DIR/_rejected). Exit 2: bad input.
    """
    from rich.console import Console

    from skillspark.config import get_settings
    from skillspark.harbor.envs import preflight_environment
    from skillspark.llm.client import LLMClient
    from skillspark.taskgen import audit_result
    from skillspark.taskgen.render import load_blueprint
    from skillspark.taskgen.vary import vary as run_vary

    if not task_dir.is_dir():
        raise UserError(f"{task_dir}: no such task directory; pass a task made by `skillspark tasks generate`")
    load_blueprint(task_dir)  # a task without its blueprint is one line before any work
    env_name = env or get_settings().env
    preflight_environment(env_name)

    async def main():
        from skillspark.taskgen.gates import GATE_NAMES

        gates = audit_result.default_gate_runner(env_name, timeout_multiplier,
                                                 gates=[g for g in GATE_NAMES if g != "dedup"])
        if model is None:
            return await run_vary(task_dir, n=n, seed=seed, output=output, gate_runner=gates)
        async with LLMClient(model, api_base=api_base, temperature=0.0, max_tokens=256) as client:
            return await run_vary(task_dir, n=n, seed=seed, output=output, gate_runner=gates, client=client)

    output.mkdir(parents=True, exist_ok=True)
    instances = asyncio.run(main())
    console = Console()
    for i in instances:
        colour = "green" if i.verdict == "accepted" else "red"
        console.print(f"[{colour}]{i.verdict}[/] {i.name} (seed {i.seed}, params {i.params} from {i.params_from})"
                      + (f": {', '.join(i.failed_gates)}: {i.reason}" if i.reason else ""), soft_wrap=True)
    raise typer.Exit(0 if all(i.verdict == "accepted" for i in instances) else 1)
