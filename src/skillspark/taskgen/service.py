"""`skillspark tasks check|audit|generate|vary` as functions: the work of each command, given its config.

Why apart from the commands: a command only turns flags into a config; a script or notebook
(`skillspark.audit_tasks`, ...) runs the same work with a config it builds, prints the same table and
writes the same files. The functions start their own event loop: call them from plain (not async) code.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from skillspark.errors import UserError
from skillspark.taskgen.config import AuditConfig, CheckConfig, TaskBatchSettings, VaryConfig

if TYPE_CHECKING:
    from skillspark.taskgen.check import CheckReport
    from skillspark.taskgen.generate_run import GenerateSettings, Outcome
    from skillspark.taskgen.gates import AuditReport
    from skillspark.taskgen.library import Reference
    from skillspark.taskgen.vary import Instance


def check_tasks(paths: list[Path], config: CheckConfig, *, console: Console | None = None) -> CheckReport:
    """Check every task folder under `paths`: static checks, build, oracle (must reach 1.0), nop (must not).

    Prints the table, writes `config.json_path` when given, and returns the report; its `exit_code` is
    the command's (0 all valid, 1 some broken or hit by the infrastructure, 2 some input bad).
    """
    from skillspark.taskgen import check, report

    run_dir, task_dirs = _prepare(paths, config, "check")
    found = _with_progress(run_dir, len(task_dirs), lambda progress: check.check_tasks(
        task_dirs, env=config.env, trials_dir=run_dir, parallelism=config.parallelism,
        timeout_multiplier=config.timeout_multiplier, rerun_failed=config.rerun_failed, on_progress=progress))
    report.print_report(found, console or Console())
    if config.json_path is not None:
        report.write_json(found, config.json_path)
    return found


def audit_tasks(paths: list[Path], config: AuditConfig, *, console: Console | None = None) -> AuditReport:
    """Run `config.gates` on every task folder under `paths`; each is compared (dedup) with
    `config.references` and the tasks before it.

    Prints the table, writes `config.json_path` when given, and returns the report (`exit_code` 0 when
    every task is accepted, else 1).
    """
    from skillspark.harbor.tasks import find_task_dirs
    from skillspark.taskgen import audit
    from skillspark.taskgen.gates import audit_tasks as audit_task_dirs

    run_dir, task_dirs = _prepare(paths, config, "audit")
    references = find_task_dirs(config.references) if config.references else []
    found = _with_progress(run_dir, len(task_dirs), lambda progress: audit_task_dirs(
        task_dirs, gates=config.gates, env=config.env, references=references, work_dir=run_dir.resolve(),
        parallelism=config.parallelism, timeout_multiplier=config.timeout_multiplier, on_progress=progress))
    audit.print_report(found, console or Console())
    if config.json_path is not None:
        audit.write_json(found, config.json_path)
    return found


def _prepare(paths: list[Path], config: TaskBatchSettings, command: str) -> tuple[Path, list[Path]]:
    """Refuse a bad environment or report path before any work; the trials folder and the task folders."""
    from skillspark.harbor.envs import preflight_environment
    from skillspark.harbor.tasks import find_task_dirs
    from skillspark.taskgen.report import check_json_target

    preflight_environment(config.env)  # a bad or unusable env is one line, before any work
    if config.json_path is not None:
        check_json_target(config.json_path)
    return config.run_dir(command, time.strftime("%Y%m%d-%H%M%S")), find_task_dirs(paths)


def _with_progress(run_dir: Path, total: int, work: Callable[[Callable[[str, str], None]], Any]) -> Any:
    """Run `work(on_progress)` under the live per-task progress on stderr; say where the trials are if interrupted."""
    from skillspark.taskgen.progress import CheckProgress

    try:
        with CheckProgress(Console(stderr=True), total=total) as progress:
            return asyncio.run(work(progress.update))
    except KeyboardInterrupt:
        Console(stderr=True).print(f"interrupted; finished trials are in {run_dir}")
        raise


def generate_tasks(prompt_file: Path, settings: GenerateSettings, *, console: Console | None = None) -> Outcome:
    """Build Harbor tasks from the idea in `prompt_file`: blueprint, critique, render, gates, repair.

    Accepted tasks land in `settings.output`, rejected ones in `settings.output/_rejected`, the audit trail
    in `settings.output/_runs`. Prints one line per stage (stderr) and the summary table; returns the
    outcome (`exit_code`: 0 all accepted, 1 some rejected, 3 `max_cost_usd` spent). An unreachable
    model or other stop is a UserError.
    """
    from skillspark.config import get_settings
    from skillspark.harbor.envs import preflight_environment
    from skillspark.llm.models import check_credentials, resolve_model
    from skillspark.taskgen import audit_result
    from skillspark.taskgen.generate_run import generate
    from skillspark.taskgen.idea import load_idea

    idea = load_idea(prompt_file)
    preflight_environment(settings.env)
    for model in filter(None, (settings.model, settings.calibrate)):
        check_credentials(resolve_model(model, settings.api_base))
    references = _references(settings.reference_tasks, settings.library, idea, get_settings().cache_dir)
    gates = audit_result.default_gate_runner(settings.env, settings.timeout_multiplier)
    try:
        outcome = asyncio.run(generate(idea, prompt_file, settings, settings.output, references=references,
                                       resume=settings.resume, gate_runner=gates, on_event=_print_event,
                                       calibration=settings.calibration()))
    except KeyboardInterrupt:
        Console(stderr=True).print(f"interrupted; run again with --resume to continue ({settings.output}/_runs)")
        raise
    _print_generate_summary(outcome, settings.output, console or Console())
    if outcome.stopped_by:
        raise UserError(outcome.stopped_by)
    return outcome


def _print_event(stage: str, fields: dict) -> None:
    """One stderr line per stage of `generate` / `vary`, for a person watching."""
    detail = ", ".join(f"{k}={v}" for k, v in fields.items() if k not in ("candidate", "problems") and v not in (None, []))
    Console(stderr=True, highlight=False).print(f"[dim]candidate {fields.get('candidate', '-')}: {stage} {detail}[/dim]",
                                                soft_wrap=True)


def _references(pinned: list[Path], library: Path | None, idea, cache_dir: Path) -> list[Reference]:
    """The pinned reference tasks first, then the library's best matches for the idea."""
    from skillspark.harbor.tasks import load_task
    from skillspark.taskgen.library import Reference, TaskLibrary, index_path_for

    refs = []
    for path in pinned:
        if not path.is_dir():
            raise UserError(f"--reference-task {path}: no such directory; pass a Harbor task folder")
        info = load_task(path)
        refs.append(Reference(name=info.name, path=str(path.resolve())))
    if library is not None:
        refs += TaskLibrary(library, index_path_for(cache_dir, library)).search(
            idea.search_text(), k=3, exclude={r.path for r in refs})
    return refs


def _print_generate_summary(outcome: Outcome, output: Path, console: Console) -> None:
    from rich.table import Table

    table = Table(title=f"skillspark tasks generate (run {outcome.state.run_id})")
    for column in ("candidate", "task", "verdict", "rounds", "reason"):
        table.add_column(column, overflow="fold")
    style = {"accepted": "green", "rejected": "red", "stopped": "yellow", "pending": "yellow"}
    for c in outcome.state.candidates:
        where = str(output / c.promoted_to) if c.promoted_to and c.status == "accepted" else (c.name or "-")
        table.add_row(str(c.index), where, f"[{style[c.status]}]{c.status}[/]", str(c.rounds), c.reason or "-")
    console.print(table)
    console.print(f"audit trail: {outcome.run_dir}; spent ${outcome.state.spent_usd:.4f}", soft_wrap=True)


def vary_task(task_dir: Path, config: VaryConfig, *, console: Console | None = None) -> list[Instance]:
    """`config.n` new instances of a task made by `tasks generate`: new seed and parameter values, same tests
    and oracle, each through every gate but dedup. Accepted ones land in `config.output`, rejected ones in
    `config.output/_rejected`; prints one line per instance and returns them."""
    from skillspark.harbor.envs import preflight_environment
    from skillspark.llm.client import LLMClient
    from skillspark.taskgen import audit_result
    from skillspark.taskgen.gates import GATE_NAMES
    from skillspark.taskgen.render import load_blueprint
    from skillspark.taskgen.vary import vary

    if not task_dir.is_dir():
        raise UserError(f"{task_dir}: no such task directory; pass a task made by `skillspark tasks generate`")
    load_blueprint(task_dir)  # a task without its blueprint is one line before any work
    preflight_environment(config.env)

    async def main() -> list[Instance]:
        gates = audit_result.default_gate_runner(config.env, config.timeout_multiplier,
                                                 gates=[g for g in GATE_NAMES if g != "dedup"])
        if config.model is None:
            return await vary(task_dir, n=config.n, seed=config.seed, output=config.output, gate_runner=gates)
        async with LLMClient(config.model, api_base=config.api_base, temperature=0.0, max_tokens=256) as client:
            return await vary(task_dir, n=config.n, seed=config.seed, output=config.output, gate_runner=gates,
                              client=client)

    config.output.mkdir(parents=True, exist_ok=True)
    instances = asyncio.run(main())
    console = console or Console()
    for i in instances:
        colour = "green" if i.verdict == "accepted" else "red"
        console.print(f"[{colour}]{i.verdict}[/] {i.name} (seed {i.seed}, params {i.params} from {i.params_from})"
                      + (f": {', '.join(i.failed_gates)}: {i.reason}" if i.reason else ""), soft_wrap=True)
    return instances
