"""The soak benchmark in small: a few dozen trials through the flaky remote environment, one kill -9, --resume.

benchmarks/soak.py runs the same harness at 300 trials, -p 16, three kills, and prints its figures; this
test asserts what must hold at any size: no trial lost, none run twice, no committed line changed by a
resume, and every failure the environment injected either retried into a pass or recorded as infra_error,
never counted against the agent (every trial's answer solves its task).
"""

from __future__ import annotations

import random

import pytest

from benchmarks.soak import BurstyStudent, SoakSetup, make_tasks, soak
from tests.fakes.scripted_openai import ScriptedOpenAIServer

pytestmark = pytest.mark.timeout(900)


def test_kill_9_and_resume_through_a_flaky_remote_environment(tmp_path):
    student = BurstyStudent(burst_after=6, burst_s=2.0)
    with ScriptedOpenAIServer() as server, open(tmp_path / "eval.log", "ab") as log:
        server.responder = student
        setup = SoakSetup(out=tmp_path / "out", tasks=make_tasks(tmp_path / "tasks", 4), k=3, parallelism=4,
                          api_base=server.base_url, ledger=tmp_path / "ledger.txt", latency_s=0.02,
                          failure_rates={"start": 0.1, "exec": 0.05, "upload": 0.1})
        report = soak(setup, n_tasks=4, kills=1, seed=random.randrange(1000), log=log, timeout_s=600)

    assert report.planned == 24
    assert (report.lost, report.run_twice, report.changed_by_resume) == (0, 0, 0)
    assert report.segments[0].killed and not report.segments[1].killed
    assert set(report.statuses) <= {"pass", "infra_error"}, report.not_passed
    assert report.statuses["pass"] >= 20, report.not_passed  # an infra_error needs three failed tries in a row
    injected = sum(n for op, n in report.injected.items() if op.endswith("failed"))
    assert injected > 0 and report.attempts > report.planned  # failures happened, and were retried
    assert student.served[429] + student.served[500] > 0  # the endpoint's burst happened and was ridden out
