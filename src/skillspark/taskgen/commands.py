"""`skillspark tasks ...`: check, audit, generate and vary Harbor task directories.

Each command turns its flags into a config (`CheckConfig`, `AuditConfig`, `GenerateSettings`, `VaryConfig`;
each flag's default, help and bounds are its field's) and calls one function of `taskgen.service`, which
is also the Python API. Heavy imports (harbor, litellm) happen inside the functions so `--help` stays fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from skillspark.params import default_of, field_option, list_values, output_folder
from skillspark.taskgen.config import ENV_HELP, AuditConfig, CheckConfig, GenerateSettings, VaryConfig

app = typer.Typer(no_args_is_help=True)

PATHS_HELP = "Task directories, or directories of task directories."
MODEL_HELP = "litellm model string or local/smollm2 (default: $SKILLSPARK_MODEL, else local/smollm2)."
ENV_FLAG = typer.Option("--env", help=f"{ENV_HELP[:-1]} (default: $SKILLSPARK_ENV, else local).")


def _check(field: str, *names: str, **extra):
    return field_option(CheckConfig, field, *names, **extra)


def _audit(field: str, *names: str, **extra):
    return field_option(AuditConfig, field, *names, **extra)


def _generate(field: str, *names: str, **extra):
    return field_option(GenerateSettings, field, *names, **extra)


def _vary(field: str, *names: str, **extra):
    return field_option(VaryConfig, field, *names, **extra)


@app.command("check")
def check(
    paths: Annotated[list[Path], typer.Argument(help=PATHS_HELP)],
    json_path: Annotated[Path | None, _check("json_path", "--json")] = default_of(CheckConfig, "json_path"),
    parallelism: Annotated[int, _check("parallelism", "--parallelism", "-p")] = default_of(CheckConfig, "parallelism"),
    env: Annotated[str | None, ENV_FLAG] = None,
    trials_dir: Annotated[Path | None, _check("trials_dir", "--trials-dir")] = default_of(CheckConfig, "trials_dir"),
    timeout_multiplier: Annotated[float, _check("timeout_multiplier", "--timeout-multiplier")] = default_of(
        CheckConfig, "timeout_multiplier"),
    rerun_failed: Annotated[bool, _check("rerun_failed", "--rerun-failed/--no-rerun-failed")] = default_of(
        CheckConfig, "rerun_failed"),
) -> None:
    """Static checks, build, oracle (must reach 1.0) and nop (must stay below 1.0) for each task.

    Each failing task gets a failure class: offline-unreachable, unsupported-base, needs-secret, timeout,
    flaky, broken or ours (a skillspark error).

    Exit 0: every task is valid.

    Exit 1: some task is broken (oracle below 1.0, nop at 1.0) or hit an infrastructure failure.

    Exit 2: some input is bad (missing file, malformed task.toml, failing Dockerfile, unsupported image).
    """
    from skillspark.config import get_settings
    from skillspark.taskgen.service import check_tasks

    settings = get_settings()
    config = CheckConfig(env=env or settings.env, jobs_dir=settings.jobs_dir, trials_dir=trials_dir,
                         parallelism=parallelism, timeout_multiplier=timeout_multiplier, rerun_failed=rerun_failed,
                         json_path=json_path)
    with _interruptible():
        report = check_tasks(paths, config)
    raise typer.Exit(report.exit_code)


@app.command("audit")
def audit(
    paths: Annotated[list[Path], typer.Argument(exists=True, help=PATHS_HELP)],
    json_path: Annotated[Path | None, _audit("json_path", "--json")] = default_of(AuditConfig, "json_path"),
    gates: Annotated[list[str] | None, typer.Option(
        "--gates", help=AuditConfig.model_fields["gates"].description)] = None,
    references: Annotated[list[Path], _audit("references", "--reference")] = default_of(AuditConfig, "references"),
    parallelism: Annotated[int, _audit("parallelism", "--parallelism", "-p")] = default_of(AuditConfig, "parallelism"),
    env: Annotated[str | None, ENV_FLAG] = None,
    trials_dir: Annotated[Path | None, _audit("trials_dir", "--trials-dir")] = default_of(AuditConfig, "trials_dir"),
    timeout_multiplier: Annotated[float, _audit("timeout_multiplier", "--timeout-multiplier")] = default_of(
        AuditConfig, "timeout_multiplier"),
) -> None:
    """Run the quality gates on each task: schema, lint, oracle, nop, mutants, leak, determinism, offline, dedup.

    Exit 0: every task is accepted. Exit 1: some task is rejected. Exit 2: bad input (unknown gate, bad --env).
    """
    from skillspark.config import get_settings
    from skillspark.taskgen.service import audit_tasks

    settings = get_settings()
    chosen = list_values(gates, "--gates")
    config = AuditConfig(env=env or settings.env, jobs_dir=settings.jobs_dir, trials_dir=trials_dir,
                         parallelism=parallelism, timeout_multiplier=timeout_multiplier, json_path=json_path,
                         references=references or [], **({"gates": chosen} if chosen is not None else {}))
    with _interruptible():
        report = audit_tasks(paths, config)
    raise typer.Exit(report.exit_code)


@app.command("generate")
def generate(
    prompt_file: Annotated[Path, typer.Option("--prompt-file", help="Task idea: SPARK PromptSpec JSON or ours.")],
    output: Annotated[Path, _generate("output", "--output", "-o", callback=output_folder)] = default_of(
        GenerateSettings, "output"),
    model: Annotated[str | None, typer.Option("--model", "-m", help=MODEL_HELP)] = None,
    n: Annotated[int, _generate("n", "-n")] = default_of(GenerateSettings, "n"),
    library: Annotated[Path | None, _generate("library", "--library")] = default_of(GenerateSettings, "library"),
    reference_task: Annotated[list[Path], _generate("reference_tasks", "--reference-task")] = default_of(
        GenerateSettings, "reference_tasks"),
    max_rounds: Annotated[int, _generate("max_rounds", "--max-rounds")] = default_of(GenerateSettings, "max_rounds"),
    max_cost: Annotated[float | None, _generate("max_cost_usd", "--max-cost")] = default_of(
        GenerateSettings, "max_cost_usd"),
    resume: Annotated[bool, _generate("resume", "--resume")] = default_of(GenerateSettings, "resume"),
    parallelism: Annotated[int, _generate("parallelism", "--parallelism", "-p")] = default_of(
        GenerateSettings, "parallelism"),
    seed: Annotated[int, _generate("seed", "--seed")] = default_of(GenerateSettings, "seed"),
    api_base: Annotated[str | None, _generate("api_base", "--api-base")] = default_of(GenerateSettings, "api_base"),
    env: Annotated[str | None, ENV_FLAG] = None,
    timeout_multiplier: Annotated[float, _generate("timeout_multiplier", "--timeout-multiplier")] = default_of(
        GenerateSettings, "timeout_multiplier"),
    llm_retries: Annotated[int | None, _generate("llm_retries", "--llm-retries")] = default_of(
        GenerateSettings, "llm_retries"),
    calibrate: Annotated[str | None, _generate("calibrate", "--calibrate")] = default_of(GenerateSettings, "calibrate"),
    calibrate_agent: Annotated[str | None, _generate("calibrate_agent", "--calibrate-agent")] = default_of(
        GenerateSettings, "calibrate_agent"),
    calibrate_k: Annotated[int, _generate("calibrate_k", "--calibrate-k")] = default_of(GenerateSettings, "calibrate_k"),
    calibrate_band: Annotated[str, _generate("calibrate_band", "--calibrate-band")] = default_of(
        GenerateSettings, "calibrate_band"),
) -> None:
    """Build Harbor tasks from an idea: blueprint, critique, render, gates, repair; accept or reject.

    Exit 0: every candidate accepted. Exit 1: some rejected (see OUTPUT/_rejected/*/REJECTED.json).
    Exit 2: bad input or an unreachable model. Exit 3: --max-cost spent (--resume continues).
    """
    from skillspark.config import get_settings
    from skillspark.taskgen.service import generate_tasks

    settings = get_settings()
    config = GenerateSettings(
        model=model or settings.model, env=env or settings.env, output=output, n=n, library=library,
        reference_tasks=reference_task or [], max_rounds=max_rounds, max_cost_usd=max_cost, resume=resume,
        parallelism=parallelism, seed=seed, api_base=api_base, timeout_multiplier=timeout_multiplier,
        llm_retries=llm_retries, calibrate=calibrate, calibrate_agent=calibrate_agent, calibrate_k=calibrate_k,
        calibrate_band=calibrate_band)
    with _interruptible():
        outcome = generate_tasks(prompt_file, config)
    raise typer.Exit(outcome.exit_code)


@app.command("vary")
def vary(
    task_dir: Annotated[Path, typer.Argument(help="A task made by `tasks generate` (it keeps its blueprint).")],
    n: Annotated[int, _vary("n", "-n")] = default_of(VaryConfig, "n"),
    seed: Annotated[int, _vary("seed", "--seed")] = default_of(VaryConfig, "seed"),
    output: Annotated[Path, _vary("output", "--output", "-o", callback=output_folder)] = default_of(VaryConfig, "output"),
    model: Annotated[str | None, _vary("model", "--model", "-m")] = default_of(VaryConfig, "model"),
    api_base: Annotated[str | None, _vary("api_base", "--api-base")] = default_of(VaryConfig, "api_base"),
    env: Annotated[str | None, ENV_FLAG] = None,
    timeout_multiplier: Annotated[float, _vary("timeout_multiplier", "--timeout-multiplier")] = default_of(
        VaryConfig, "timeout_multiplier"),
) -> None:
    """New instances of a generated task: new seed and parameter values, same tests and oracle, all gated.

    Exit 0: every instance accepted. Exit 1: some rejected (OUTPUT/_rejected). Exit 2: bad input.
    """
    from skillspark.config import get_settings
    from skillspark.taskgen.service import vary_task

    config = VaryConfig(n=n, seed=seed, output=output, model=model, api_base=api_base,
                        env=env or get_settings().env, timeout_multiplier=timeout_multiplier)
    instances = vary_task(task_dir, config)
    raise typer.Exit(0 if all(i.verdict == "accepted" for i in instances) else 1)


@contextmanager
def _interruptible() -> Iterator[None]:
    """Ctrl-C during a command: exit 130 (the service already said where the finished work is)."""
    try:
        yield
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
