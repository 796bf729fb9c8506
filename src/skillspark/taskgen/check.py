"""Validate Harbor tasks end to end: static checks, build, oracle must pass, nop must fail.

A task is worth exploring only if its reference solution reaches reward 1.0 (otherwise no agent
can be judged against it) and the untouched environment does not (otherwise the tests check
nothing). Each task is checked independently: one broken task never stops the others.

Verdicts and the exit code of `skillspark tasks check`:
- "valid": everything holds.
- "invalid": the input is bad (static problem, Dockerfile that fails to build, unsupported base
  image, a task or environment Harbor cannot load); exit code 2, like every user error.
- "broken": the task is well formed but wrong (oracle below 1.0, nop at 1.0, tests that write no
  reward); exit code 1.
- "infra_error": the machine failed the run (OOM kill, full disk); exit code 1, rerun it.
Exit code 0 only when every task is valid; 2 wins over 1.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from skillspark.harbor.envs import LOCAL_ENV
from skillspark.harbor.tasks import harbor_task_dir, inspect_task
from skillspark.harbor.trials import NOP, ORACLE, AgentSpec, TrialOutcome, ctrf_results, run_trial
from skillspark.llm.redact import one_line

Verdict = Literal["valid", "invalid", "broken", "infra_error"]
Phase = Literal["static", "oracle", "nop", "done"]
EXIT_CODES: dict[Verdict, int] = {"valid": 0, "broken": 1, "infra_error": 1, "invalid": 2}
_START_TIMEOUT = "EnvironmentStartTimeoutError"  # Harbor's: the environment (here: its build) ran past build_timeout_sec
_TIMED_OUT_AFTER = re.compile(r"timed out after ([\d.]+) seconds")
_NO_REWARD = {"RewardFileNotFoundError", "RewardFileEmptyError"}  # Harbor's: the verifier left no usable reward


class TrialSummary(BaseModel):
    """The part of one oracle or nop trial a task author needs to see."""

    status: str
    reward: float | None
    duration_s: float
    trial_dir: str
    exception_type: str | None = None
    exception_message: str | None = None
    failed_tests: list[str] = Field(default_factory=list)
    skipped_files: list[str] = Field(default_factory=list)  # trial files not read (planted links, ...)

    @classmethod
    def of(cls, outcome: TrialOutcome) -> TrialSummary:
        return cls(
            status=outcome.status,
            reward=outcome.reward,
            duration_s=round(outcome.duration_s, 2),
            trial_dir=str(outcome.trial_dir),
            exception_type=outcome.exception_type,
            exception_message=outcome.exception_message,
            failed_tests=failed_tests(outcome.ctrf),
            skipped_files=outcome.skipped_files,
        )


class TaskCheck(BaseModel):
    """The check of one task: one row of the table, one entry of the JSON report."""

    task: str
    path: str
    verdict: Verdict
    build: Literal["ok", "failed", "skipped"]
    build_s: float | None = None
    oracle: TrialSummary | None = None
    nop: TrialSummary | None = None
    duration_s: float = 0.0
    reasons: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)


class CheckReport(BaseModel):
    """What `skillspark tasks check --json FILE` writes."""

    env: str
    trials_dir: str
    exit_code: int
    counts: dict[str, int]
    tasks: list[TaskCheck]


ProgressCallback = Callable[[str, Phase], None]


async def check_tasks(
    task_dirs: list[Path],
    *,
    env: str = LOCAL_ENV,
    trials_dir: Path,
    parallelism: int = 1,
    timeout_multiplier: float = 1.0,
    on_progress: ProgressCallback | None = None,
) -> CheckReport:
    """Check every task dir (as `find_task_dirs` lists them), at most `parallelism` at once."""
    gate = asyncio.Semaphore(max(1, parallelism))
    notify = on_progress or (lambda _task, _phase: None)

    async def one(task_dir: Path) -> TaskCheck:
        async with gate:
            return await check_task(
                task_dir, env=env, trials_dir=trials_dir, timeout_multiplier=timeout_multiplier, on_progress=notify
            )

    checks = list(await asyncio.gather(*(one(p) for p in task_dirs)))
    counts = {verdict: sum(c.verdict == verdict for c in checks) for verdict in EXIT_CODES}
    return CheckReport(
        env=env,
        trials_dir=str(trials_dir),
        exit_code=max((EXIT_CODES[c.verdict] for c in checks), default=0),
        counts=counts,
        tasks=checks,
    )


async def check_task(
    task_dir: Path,
    *,
    env: str,
    trials_dir: Path,
    timeout_multiplier: float = 1.0,
    on_progress: ProgressCallback,
) -> TaskCheck:
    """Static checks, then the oracle trial (which builds the environment), then the nop trial."""
    started = time.monotonic()
    inspection = inspect_task(task_dir)
    name = inspection.name
    on_progress(name, "static")
    check = TaskCheck(task=name, path=str(task_dir), verdict="valid", build="skipped", warnings=inspection.warnings)
    if inspection.info is None:
        check.verdict, check.reasons = "invalid", inspection.problems
        return _finish(check, started, on_progress)

    runnable = harbor_task_dir(inspection.path, trials_dir)

    async def trial(agent: AgentSpec) -> TrialOutcome:
        return await run_trial(runnable, agent=agent, env=env, trials_dir=trials_dir, timeout_multiplier=timeout_multiplier)

    on_progress(name, "oracle")
    oracle = await trial(ORACLE)
    check.oracle = TrialSummary.of(oracle)
    check.build_s = oracle.environment_setup_s
    if build_failure := build_failure_reason(oracle):
        check.build, check.verdict, check.reasons = "failed", "invalid", [build_failure]
        return _finish(check, started, on_progress)
    check.build = "ok"
    on_progress(name, "nop")
    nop = await trial(NOP)
    check.nop = TrialSummary.of(nop)
    check.verdict, check.reasons = judge(oracle, nop)
    return _finish(check, started, on_progress)


def build_failure_reason(oracle: TrialOutcome) -> str | None:
    """Why the environment could not be built (a build that ran out of time included), or None."""
    if oracle.exception_type == _START_TIMEOUT:
        seconds = _TIMED_OUT_AFTER.search(oracle.exception_message or "")
        after = f" after {float(seconds.group(1)):g} s" if seconds else ""
        return (f"build: build timed out{after}; raise environment.build_timeout_sec in task.toml "
                "or make the Dockerfile's steps faster")
    if oracle.infra_kind in ("setup", "build"):
        return f"{oracle.infra_kind}: {one_line(oracle.exception_message or 'unknown error')}"
    return None


def judge(oracle: TrialOutcome, nop: TrialOutcome) -> tuple[Verdict, list[str]]:
    """Verdict and reasons from a built task's oracle and nop trials."""
    infra: list[str] = []
    broken: list[str] = []
    for role, outcome in (("oracle", oracle), ("nop", nop)):
        if outcome.status == "infra_error":
            infra.append(f"{role}: {_infra_reason(outcome)}")
    if not oracle.passed and oracle.status != "infra_error":
        broken.append(f"oracle: {_shortfall(oracle)}")
    if nop.status == "ok" and nop.reward is not None and nop.reward >= 1.0:
        broken.append("nop: the untouched environment already passes the tests (reward 1.0); the tests check nothing")
    elif nop.exception_type in _NO_REWARD:
        broken.append(f"nop: {_no_reward(nop)}")
    elif nop.status == "verifier_error":
        broken.append(
            f"nop: the verifier failed instead of scoring 0 ({one_line(nop.exception_message or 'unknown error')}); "
            "make tests/test.sh write 0 to reward.txt when tests fail"
        )
    verdict: Verdict = "broken" if broken else "infra_error" if infra else "valid"
    return verdict, broken + infra


_INFRA_HINTS = {
    "oom": "out of memory (killed, exit 137, or MemoryError); raise environment.memory_mb in task.toml "
    "or free memory on the host",
    "disk": "disk full; raise environment.storage_mb in task.toml or free disk space on the host",
    "start": "the environment failed to start or respond; rerun, or check the host",
}


def _infra_reason(outcome: TrialOutcome) -> str:
    hint = _INFRA_HINTS.get(outcome.infra_kind or "", "infrastructure failure")
    detail = f" ({one_line(outcome.exception_message or 'unknown error')})" if outcome.exception_message else ""
    return f"infrastructure failure: {hint}{detail}"


def _no_reward(outcome: TrialOutcome) -> str:
    lines = _last_lines(outcome.verifier_stdout)
    output = f"; its output ends: {lines}" if lines else "; it printed nothing"
    return (f"the verifier ended without writing /logs/verifier/reward.txt or reward.json{output}; "
            "make tests/test.sh write the reward on every path")


def _last_lines(text: str, count: int = 3) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return one_line(" | ".join(lines[-count:]), 240) if lines else ""


def _shortfall(outcome: TrialOutcome) -> str:
    if outcome.exception_type in _NO_REWARD:
        return _no_reward(outcome)
    if outcome.status != "ok":
        return f"{outcome.status} ({outcome.exception_type}: {one_line(outcome.exception_message or 'unknown error')})"
    failing = failed_tests(outcome.ctrf)
    if failing:
        detail = f"; failing tests: {', '.join(failing[:5])}"
    elif lines := _last_lines(outcome.verifier_stdout):
        detail = f"; verifier output ends: {lines}"
    else:
        detail = ""
    return f"reward {outcome.reward} < 1.0 with the reference solution{detail}"


def failed_tests(ctrf: dict | None) -> list[str]:
    """Names of the tests a CTRF report marks failed (or errored)."""
    return (ctrf_results(ctrf) or ([], []))[1]


def _finish(check: TaskCheck, started: float, on_progress: ProgressCallback) -> TaskCheck:
    check.duration_s = round(time.monotonic() - started, 2)
    on_progress(check.task, "done")
    return check
