"""The verdict rules of `tasks check` for every combination of oracle and nop outcomes."""

from pathlib import Path

import pytest

from skillspark.harbor.trials import TrialOutcome
from skillspark.taskgen.check import EXIT_CODES, failed_tests, judge


def outcome(status="ok", reward=None, **fields) -> TrialOutcome:
    return TrialOutcome(task_name="t", trial_dir=Path("/tmp/t"), status=status, reward=reward, **fields)


OOM = {"infra_kind": "oom", "exception_message": None}


@pytest.mark.parametrize(
    ("oracle", "nop", "verdict", "reason_starts"),
    [
        (outcome(reward=1.0), outcome(reward=0.0), "valid", []),
        (outcome(reward=1.0), outcome(reward=0.5), "valid", []),
        (outcome(reward=0.99), outcome(reward=0.0), "broken", ["oracle: reward 0.99 < 1.0"]),
        (outcome(reward=1.0), outcome(reward=1.0), "broken", ["nop: the untouched environment already passes"]),
        (
            outcome(reward=1.0),
            outcome("verifier_error", exception_type="RewardFileNotFoundError", exception_message="No reward file"),
            "broken",
            ["nop: the verifier ended without writing /logs/verifier/reward.txt or reward.json"],
        ),
        (
            outcome("agent_timeout", reward=0.0, exception_type="AgentTimeoutError", exception_message="late"),
            outcome(reward=0.0),
            "broken",
            ["oracle: agent_timeout (AgentTimeoutError: late)"],
        ),
        (outcome("infra_error", **OOM), outcome(reward=0.0), "infra_error", ["oracle: infrastructure failure: out of memory"]),
        # a real task defect outranks an infrastructure hiccup of the other trial
        (
            outcome("infra_error", **OOM),
            outcome(reward=1.0),
            "broken",
            ["nop: the untouched environment", "oracle: infrastructure failure"],
        ),
    ],
)
def test_judge(oracle, nop, verdict, reason_starts):
    got_verdict, reasons = judge(oracle, nop)
    assert got_verdict == verdict
    assert len(reasons) == len(reason_starts)
    for reason, start in zip(reasons, reason_starts, strict=True):
        assert reason.startswith(start), reason


def test_exit_codes_rank_bad_input_above_broken():
    assert EXIT_CODES == {"valid": 0, "broken": 1, "infra_error": 1, "invalid": 2}


def test_failed_tests_from_ctrf():
    ctrf = {"results": {"tests": [
        {"name": "a", "status": "passed"}, {"name": "b", "status": "failed"},
        {"name": "c", "status": "skipped"}, {"name": "d", "status": "error"}, "junk",
    ]}}
    assert failed_tests(ctrf) == ["b", "d"]
    assert failed_tests(None) == [] and failed_tests({"results": None}) == []
