"""Each failure class of `tasks check`, produced by a small task of ours that fails exactly that way.

The tasks are examples/failure-classes/ (one per class); the real CLI checks them in the real sandbox.
"""

import json
import shutil
from pathlib import Path

import pytest

from tests.taskgen.test_check_cli import run_cli

pytestmark = pytest.mark.timeout(300)
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "failure-classes"


def check(names: list[str], tmp_path: Path, monkeypatch, capsys, *extra: str) -> tuple[int, dict, str]:
    tasks = tmp_path / "tasks"
    for name in names:
        shutil.copytree(EXAMPLES / name, tasks / name)
    monkeypatch.delenv("SKILLSPARK_EXAMPLE_ANSWER_API_KEY", raising=False)
    report_path = tmp_path / "report.json"
    code, out, _ = run_cli(["tasks", "check", str(tasks), "-p", "2", "--json", str(report_path),
                            "--trials-dir", str(tmp_path / "trials"), *extra], monkeypatch, capsys)
    return code, json.loads(report_path.read_text()), out


def by_task(report: dict) -> dict[str, dict]:
    return {t["task"]: t for t in report["tasks"]}


def test_refused_before_any_trial_unsupported_base_and_ours(tmp_path, monkeypatch, capsys):
    code, report, out = check(["unsupported-base", "ours"], tmp_path, monkeypatch, capsys)
    assert code == 2
    tasks = by_task(report)
    assert (tasks["unsupported-base"]["failure_class"], tasks["unsupported-base"]["failure_detail"]) == (
        "unsupported-base", "alpine:3.19")
    ours = tasks["ours"]
    assert ours["failure_class"] == "ours"
    assert ours["failure_detail"] == ("the local sandbox does not support RUN options "
                                      "(--mount=type=cache,target=/var/cache/apt); use --env docker")
    assert report["failure_classes"] == {"ours": 1, "unsupported-base": 1}
    assert "2 task(s): 2 invalid (failure classes: 1 ours, 1 unsupported-base)" in out
    assert "unsupported-base: class unsupported-base: alpine:3.19" in out.splitlines()


@pytest.mark.slow
def test_each_trial_failure_gets_its_class(tmp_path, monkeypatch, capsys):
    names = ["offline-unreachable", "needs-secret", "timeout", "flaky", "broken"]
    code, report, out = check(names, tmp_path, monkeypatch, capsys)
    assert code == 1
    tasks = by_task(report)
    assert {name: tasks[name]["failure_class"] for name in names} == {name: name for name in names}
    assert "answers.example.invalid" in tasks["offline-unreachable"]["failure_detail"]
    assert tasks["needs-secret"]["failure_detail"] == "SKILLSPARK_EXAMPLE_ANSWER_API_KEY"
    assert tasks["timeout"]["failure_detail"].startswith("the oracle timed out (limit 3 s, ran ")
    # flaky and broken are told apart by a second oracle run; the others name their cause and need none
    assert tasks["flaky"]["oracle_rerun"]["reward"] != tasks["flaky"]["oracle"]["reward"]
    assert tasks["broken"]["oracle_rerun"]["reward"] == tasks["broken"]["oracle"]["reward"] == 0.0
    assert tasks["broken"]["failure_detail"].startswith("the oracle fails the same way twice: oracle: reward 0.0")
    assert all(tasks[name]["oracle_rerun"] is None for name in ("offline-unreachable", "needs-secret", "timeout"))
    assert report["failure_classes"] == {name: 1 for name in sorted(names)}
    assert "(failure classes: 1 broken, 1 flaky, 1 needs-secret, 1 offline-unreachable, 1 timeout)" in out


def test_no_rerun_leaves_an_unexplained_failure_broken_and_says_so(tmp_path, monkeypatch, capsys):
    code, report, _ = check(["flaky"], tmp_path, monkeypatch, capsys, "--no-rerun-failed")
    assert code == 1
    flaky = by_task(report)["flaky"]
    assert flaky["oracle_rerun"] is None and flaky["failure_class"] == "broken"
    assert flaky["failure_detail"].endswith("(one oracle run: --no-rerun-failed)")


def test_a_valid_task_has_no_class(task_variant, tmp_path, monkeypatch, capsys):
    code, out, _ = run_cli(["tasks", "check", str(task_variant("good")), "--json", str(tmp_path / "r.json"),
                            "--trials-dir", str(tmp_path / "t")], monkeypatch, capsys)
    report = json.loads((tmp_path / "r.json").read_text())
    assert code == 0 and report["failure_classes"] == {} and report["tasks"][0]["failure_class"] is None
    assert "failure classes" not in out
