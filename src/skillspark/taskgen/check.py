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

Every task that is not valid also gets a failure class (`failure_class.py`): what a user does next
depends on whether the task is wrong, needs what an offline host lacks, is slow, is flaky, or hit a
gap of ours. Telling flaky from broken takes a second oracle run, made only for a failing oracle
whose output names no other cause (`rerun_failed`, on by default). Each trial waits on the one before it, so
they start one by one through the trial runner of every command (`agents.trials.run_trial_retrying`).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from skillspark.agents.trials import run_trial_retrying
from skillspark.core.redact import one_line
from skillspark.files import regular_files
from skillspark.harbor.envs import LOCAL_ENV
from skillspark.harbor.tasks import harbor_task_dir, inspect_task
from skillspark.harbor.safe_read import TrialReader
from skillspark.harbor.trials import NOP, ORACLE, AgentSpec, TrialOutcome, ctrf_results
from skillspark.taskgen.failure_class import (
    Failure,
    FailureClassName,
    from_evidence,
    hosts_named_in,
    timeout,
    unset_compose_secrets,
    unset_template_variables,
)

Verdict = Literal["valid", "invalid", "broken", "infra_error"]
Phase = Literal["static", "oracle", "nop", "oracle again", "done"]
EXIT_CODES: dict[Verdict, int] = {"valid": 0, "broken": 1, "infra_error": 1, "invalid": 2}
_START_TIMEOUT = "EnvironmentStartTimeoutError"  # Harbor's: the environment (here: its build) ran past build_timeout_sec
_TIMED_OUT_AFTER = re.compile(r"timed out after ([\d.]+) seconds")
_NO_REWARD = {"RewardFileNotFoundError", "RewardFileEmptyError"}  # Harbor's: the verifier left no usable reward
_VERIFIER_TIMEOUT = "VerifierTimeoutError"
_BUILD_TIMED_OUT = "build timeout reached"  # the sandbox builder's words (sandbox/build.py)
_EVIDENCE_CHARS = 8000
# A build that fails in these words failed by the task's own doing: a step exits non-zero, the Dockerfile is wrong.
_TASK_FAULTS = ("build failed:", "fix the Dockerfile", "fix the path", "add a Dockerfile")
_EVIDENCE_FILES = ("exception.txt", "agent/oracle.txt", "verifier/test-stdout.txt")


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
    oracle_rerun: TrialSummary | None = None  # the second oracle run that tells flaky from broken
    duration_s: float = 0.0
    reasons: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    failure_class: FailureClassName | None = None  # None exactly when the task is valid
    failure_detail: str | None = None  # the URL, image, variable, limit or first reason that decided the class


class CheckReport(BaseModel):
    """What `skillspark tasks check --json FILE` writes."""

    env: str
    trials_dir: str
    exit_code: int
    counts: dict[str, int]
    failure_classes: dict[str, int] = Field(default_factory=dict)
    tasks: list[TaskCheck]


ProgressCallback = Callable[[str, Phase], None]


async def check_tasks(
    task_dirs: list[Path],
    *,
    env: str = LOCAL_ENV,
    trials_dir: Path,
    parallelism: int = 1,
    timeout_multiplier: float = 1.0,
    rerun_failed: bool = True,
    on_progress: ProgressCallback | None = None,
) -> CheckReport:
    """Check every task dir (as `find_task_dirs` lists them), at most `parallelism` at once."""
    gate = asyncio.Semaphore(max(1, parallelism))
    notify = on_progress or (lambda _task, _phase: None)

    async def one(task_dir: Path) -> TaskCheck:
        async with gate:
            return await check_task(task_dir, env=env, trials_dir=trials_dir, timeout_multiplier=timeout_multiplier,
                                    rerun_failed=rerun_failed, on_progress=notify)

    checks = list(await asyncio.gather(*(one(p) for p in task_dirs)))
    counts = {verdict: sum(c.verdict == verdict for c in checks) for verdict in EXIT_CODES}
    classes = Counter(c.failure_class for c in checks if c.failure_class)
    return CheckReport(
        env=env,
        trials_dir=str(trials_dir),
        exit_code=max((EXIT_CODES[c.verdict] for c in checks), default=0),
        counts=counts,
        failure_classes=dict(sorted(classes.items(), key=lambda item: (-item[1], item[0]))),
        tasks=checks,
    )


async def check_task(
    task_dir: Path,
    *,
    env: str,
    trials_dir: Path,
    timeout_multiplier: float = 1.0,
    rerun_failed: bool = True,
    on_progress: ProgressCallback,
) -> TaskCheck:
    """Static checks, then the oracle trial (which builds the environment), then the nop trial.

    A failing oracle whose output names no cause is run once more (`rerun_failed`) to tell flaky from broken.
    """
    started = time.monotonic()
    inspection = inspect_task(task_dir)
    name = inspection.name
    on_progress(name, "static")
    check = TaskCheck(task=name, path=str(task_dir), verdict="valid", build="skipped", warnings=inspection.warnings)
    if inspection.info is None:
        check.verdict, check.reasons = "invalid", inspection.problems
        _classify(check, Failure(failure_class="broken", detail=inspection.problems[0]))
        return _finish(check, started, on_progress)
    limits = TaskLimits.of(inspection.info.config, inspection.path, timeout_multiplier)

    runnable = harbor_task_dir(inspection.path, trials_dir)

    async def trial(agent: AgentSpec) -> TrialOutcome:
        return await run_trial_retrying(runnable, agent, env=env, trials_dir=trials_dir,
                                        timeout_multiplier=timeout_multiplier)

    on_progress(name, "oracle")
    oracle = await trial(ORACLE)
    check.oracle = TrialSummary.of(oracle)
    check.build_s = oracle.environment_setup_s
    if build_failure := build_failure_reason(oracle):
        check.build, check.verdict, check.reasons = "failed", "invalid", [build_failure]
        _classify(check, failure_of(check, oracle, None, limits))
        return _finish(check, started, on_progress)
    check.build = "ok"
    on_progress(name, "nop")
    nop = await trial(NOP)
    check.nop = TrialSummary.of(nop)
    check.verdict, check.reasons = judge(oracle, nop)
    if check.verdict == "valid":
        return _finish(check, started, on_progress)
    failure = failure_of(check, oracle, nop, limits)
    if failure is None and rerun_failed:  # a failing oracle that printed no cause: once more, flaky or broken
        on_progress(name, "oracle again")
        again = await trial(ORACLE)
        check.oracle_rerun = TrialSummary.of(again)
        failure = rerun_failure_class(oracle, again, check.reasons)
    elif failure is None:
        failure = Failure(failure_class="broken", detail=f"{check.reasons[0]} (one oracle run: --no-rerun-failed)")
    _classify(check, failure)
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


class TaskLimits(BaseModel):
    """A task's time limits after the multiplier (the timeout class's detail) and the host variables it lacks."""

    build_s: float | None = None
    agent_s: float | None = None
    verifier_s: float | None = None
    unset_variables: list[str] = Field(default_factory=list)  # `${VAR}` in task.toml that this host does not set
    named_hosts: list[str] = Field(default_factory=list)  # hosts URLs in solution/ and tests/ name

    @classmethod
    def of(cls, config, task_dir: Path, multiplier: float) -> TaskLimits:
        def scaled(section, field: str) -> float | None:
            value = getattr(section, field, None) if section is not None else None
            return None if value is None else float(value) * multiplier

        tables = [getattr(getattr(config, part, None), "env", None) or {} for part in ("environment", "verifier", "solution")]
        compose = task_dir / "environment" / "docker-compose.yaml"
        compose_text = compose.read_text(errors="replace") if compose.is_file() else ""
        unset = sorted({*unset_template_variables(tables), *unset_compose_secrets(compose_text)})
        sources = [path.read_text(errors="replace") for path in _own_files(task_dir, ("solution", "tests"))]
        return cls(build_s=scaled(config.environment, "build_timeout_sec"), agent_s=scaled(config.agent, "timeout_sec"),
                   verifier_s=scaled(config.verifier, "timeout_sec"), unset_variables=unset,
                   named_hosts=hosts_named_in(sources))


def failure_of(check: TaskCheck, oracle: TrialOutcome, nop: TrialOutcome | None, limits: TaskLimits) -> Failure | None:
    """The class of a built (or failed) task that is not valid; None when only a second oracle run can tell."""
    if check.build == "failed" or nop is None:
        return build_failure_class(oracle, check.reasons[0], limits)
    return trial_failure_class(oracle, nop, check.reasons, limits)


def _own_files(task_dir: Path, folders: tuple[str, ...], max_bytes: int = 2**20, max_files: int = 200) -> list[Path]:
    """A task's regular files under `folders`, links neither followed nor read (a task may point them anywhere)."""
    found = [path for folder in folders for path in regular_files(task_dir / folder) if path.stat().st_size <= max_bytes]
    return found[:max_files]


def build_failure_class(oracle: TrialOutcome, reason: str, limits: TaskLimits) -> Failure:
    """The class of a build that failed: its time limit, what its output names, our own environment, or the task."""
    if oracle.exception_type == _START_TIMEOUT or _BUILD_TIMED_OUT in (oracle.exception_message or ""):
        return timeout("the build", limits.build_s, oracle.environment_setup_s or oracle.duration_s)
    if failure := _from_trial(oracle, limits, blame_unset=False):  # a build names the secret it lacks itself
        return failure
    if any(words in reason for words in _TASK_FAULTS):
        return Failure(failure_class="broken", detail=reason)
    return Failure(failure_class="ours", detail=reason)  # our environment failed to set up or start


def trial_failure_class(oracle: TrialOutcome, nop: TrialOutcome, reasons: list[str], limits: TaskLimits) -> Failure | None:
    """The class of a built task that is not valid; None when only a second oracle run can tell (flaky or broken)."""
    if oracle.passed:  # the oracle is fine: the tests check nothing, or the nop trial hit the machine
        if nop.status == "infra_error" and nop.infra_kind in ("setup", "start", "environment"):
            return Failure(failure_class="ours", detail=reasons[0])
        return Failure(failure_class="broken", detail=reasons[0])
    if oracle.status == "agent_timeout":
        return timeout("the oracle", limits.agent_s, _after_build(oracle))
    if oracle.exception_type == _VERIFIER_TIMEOUT:
        return timeout("the verifier", limits.verifier_s, _after_build(oracle))
    if failure := _from_trial(oracle, limits):
        return failure
    if oracle.status == "infra_error" and oracle.infra_kind in ("setup", "start", "environment"):
        return Failure(failure_class="ours", detail=reasons[0])
    return None


def _after_build(outcome: TrialOutcome) -> float:
    """Seconds the trial ran once its environment was up (the build is not the oracle's time)."""
    return max(0.0, outcome.duration_s - (outcome.environment_setup_s or 0.0))


def rerun_failure_class(first: TrialOutcome, again: TrialOutcome, reasons: list[str]) -> Failure:
    """Flaky when the second oracle run passed or ended otherwise than the first, broken when it failed alike."""
    if again.passed:
        return Failure(failure_class="flaky", detail=f"the oracle failed once and passed once ({reasons[0]})")
    if _ending(first) != _ending(again):
        return Failure(failure_class="flaky", detail=f"the oracle's result changed between runs: "
                                                     f"{_ending_text(first)}, then {_ending_text(again)}")
    return Failure(failure_class="broken", detail=f"the oracle fails the same way twice: {reasons[0]}")


def _ending(outcome: TrialOutcome) -> tuple:
    return outcome.status, outcome.reward, tuple(sorted(failed_tests(outcome.ctrf)))


def _ending_text(outcome: TrialOutcome) -> str:
    failing = failed_tests(outcome.ctrf)
    tests = f", failing {', '.join(failing[:3])}" if failing else ""
    return f"{outcome.status} reward {outcome.reward}{tests}"


def _from_trial(outcome: TrialOutcome, limits: TaskLimits, blame_unset: bool = True) -> Failure | None:
    """What the trial's own output proves (secret, offline, unsupported), else (`blame_unset`: the oracle ran
    and failed) a `${VAR}` this host lacks."""
    if failure := from_evidence(trial_evidence(outcome)):
        if failure.detail.startswith("a host name lookup failed") and limits.named_hosts:
            failure.detail += f"; the task's files name {', '.join(limits.named_hosts)}"
        return failure
    if blame_unset and limits.unset_variables:
        return Failure(failure_class="needs-secret", detail=", ".join(limits.unset_variables))
    return None


def trial_evidence(outcome: TrialOutcome) -> str:
    """What a trial printed: the exception, the oracle's log and the verifier's output (tails, read safely)."""
    files = TrialReader(outcome.trial_dir)
    parts = [outcome.exception_message or ""] + [files.text_tail(name, _EVIDENCE_CHARS) for name in _EVIDENCE_FILES]
    return "\n".join(part for part in parts if part)


def _classify(check: TaskCheck, failure: Failure) -> None:
    check.failure_class, check.failure_detail = failure.failure_class, one_line(failure.detail, 400)


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
