"""Judge one attempt: a status from the trial outcome, and per-test ✓/✗ lines for the memo.

Infra failures (environment build, out-of-memory kill, full disk) get their own status: they say
nothing about the agent's strategy, so they never feed the memo or the PDI proxy. Trial files the host
refused to read (a link the agent planted in /logs) are named in the verdict's `warnings` and its error.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from pydantic import BaseModel, Field

from skillspark.explore.records import Status
from skillspark.harbor.trials import ctrf_results

_INFRA_PATTERNS = re.compile(
    r"exit code 137|exit status 137|returncode=137|killed by signal 9|out of memory|oom[- ]?kill"
    r"|no space left on device|disk quota exceeded|environment build|build failed|failed to build",
    re.IGNORECASE,
)
# Outcomes of pytest's `-rA` summary ("PASSED path::test") and verbose lines ("path::test PASSED").
_SUMMARY_LINE = re.compile(r"^(PASSED|FAILED|ERROR|XPASS|XFAIL)\s+(\S+::\S+)")
_VERBOSE_LINE = re.compile(r"^(\S+::\S+)\s+(PASSED|FAILED|ERROR)\b")
_PASSING = {"PASSED", "XPASS", "XFAIL"}


class OutcomeLike(Protocol):
    """The fields of `skillspark.harbor.trials.TrialOutcome` the judge reads."""

    reward: float | None
    status: str
    exception_message: str | None
    verifier_stdout: str | None
    ctrf: dict[str, Any] | None
    skipped_files: list[str]


class Verdict(BaseModel):
    status: Status
    reward: float
    passed_tests: list[str] = Field(default_factory=list)
    failed_tests: list[str] = Field(default_factory=list)
    test_summary: str = ""
    error: str = ""
    warnings: list[str] = Field(default_factory=list)

    @property
    def n_tests(self) -> int:
        return len(self.passed_tests) + len(self.failed_tests)

    @property
    def success(self) -> bool:
        return self.status == "PASS"


def parse_pytest_output(output: str) -> tuple[list[str], list[str]]:
    """Passed and failed test names parsed from pytest output (summary or verbose lines)."""
    outcome: dict[str, bool] = {}
    for raw in output.splitlines():
        line = raw.strip()
        if m := _SUMMARY_LINE.match(line):
            outcome[m.group(2)] = m.group(1) in _PASSING
        elif m := _VERBOSE_LINE.match(line):
            outcome[m.group(1)] = m.group(2) in _PASSING
    return [n for n, ok in outcome.items() if ok], [n for n, ok in outcome.items() if not ok]


def format_test_summary(passed: list[str], failed: list[str]) -> str:
    """The ✓/✗ block the summarizer and the PDI proxy read (same line shape as SPARK's logs)."""
    parts: list[str] = []
    if passed:
        parts.append("PASSED (keep these working):")
        parts.extend(f"  ✓ {name}" for name in passed)
    if failed:
        parts.append("FAILED (fix these):")
        parts.extend(f"  ✗ {name}" for name in failed)
    return "\n".join(parts)


def is_infra_failure(outcome: OutcomeLike) -> bool:
    if outcome.status == "infra_error":
        return True
    if outcome.status in ("agent_error", "verifier_error"):
        return bool(_INFRA_PATTERNS.search(outcome.exception_message or ""))
    return False


def judge(outcome: OutcomeLike) -> Verdict:
    """Turn a trial outcome into a verdict: PASS r>=1, PARTIAL 0<r<1, FAIL, ERROR, INFRA_ERROR."""
    reward = float(outcome.reward) if outcome.reward is not None else 0.0
    stdout = outcome.verifier_stdout or ""
    from_ctrf = ctrf_results(outcome.ctrf)
    passed, failed = from_ctrf if from_ctrf is not None else parse_pytest_output(stdout)
    error = (outcome.exception_message or "").strip()
    if is_infra_failure(outcome):
        status: Status = "INFRA_ERROR"
    elif reward >= 1.0:
        status = "PASS"
    elif outcome.status in ("agent_error", "agent_timeout", "verifier_error"):
        status = "ERROR"
        error = error or outcome.status.replace("_", " ")
    elif reward > 0.0:
        status = "PARTIAL"
    else:
        status = "FAIL"
    warnings = [f"skipped {entry} (not read)" for entry in outcome.skipped_files]
    return Verdict(
        status=status,
        reward=reward,
        passed_tests=passed,
        failed_tests=failed,
        test_summary=format_test_summary(passed, failed),
        error="; ".join(part for part in (error, *warnings) if part),
        warnings=warnings,
    )
