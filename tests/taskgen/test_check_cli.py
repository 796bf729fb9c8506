"""`skillspark tasks check` end to end: real static checks, real sandbox builds, real oracle/nop trials."""

import json
import sys
from pathlib import Path

import pytest

from skillspark import cli

pytestmark = pytest.mark.timeout(300)


def run_cli(args: list[str], monkeypatch, capsys) -> tuple[int, str, str]:
    """Run the real entry point (UserError handling included); return (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["skillspark", *args])
    monkeypatch.setenv("COLUMNS", "250")  # keep table rows on one line each
    with pytest.raises(SystemExit) as info:
        cli.main()
    out, err = capsys.readouterr()
    return info.value.code or 0, out, err


def test_mixed_good_and_bad_tasks_all_checked(task_variant, tmp_path, monkeypatch, capsys):
    tasks = tmp_path / "tasks"
    task_variant("good")
    task_variant("no-instruction", files={"instruction.md": None})
    task_variant("bad-toml", files={"task.toml": "[agent\n"})
    task_variant("alpine", replace={"environment/Dockerfile": ("debian:bookworm-slim", "alpine:3.19")})
    task_variant("build-fails", replace={"environment/Dockerfile": ("WORKDIR /app", "WORKDIR /app\nRUN exit 7")})
    report_path = tmp_path / "report.json"
    code, out, _ = run_cli(
        ["tasks", "check", str(tasks), str(tmp_path / "missing"), "--json", str(report_path),
         "--trials-dir", str(tmp_path / "trials"), "--parallelism", "2"],
        monkeypatch, capsys,
    )
    assert code == 2
    report = json.loads(report_path.read_text())
    by_name = {t["task"]: t for t in report["tasks"]}
    assert set(by_name) == {"alpine", "bad-toml", "build-fails", "good", "no-instruction", "missing"}
    assert report["exit_code"] == 2
    assert report["counts"] == {"valid": 1, "broken": 0, "infra_error": 0, "invalid": 5}

    good = by_name["good"]
    assert (good["verdict"], good["build"], good["reasons"]) == ("valid", "ok", [])
    assert good["oracle"]["reward"] == 1.0 and good["nop"]["reward"] == 0.0
    assert good["nop"]["failed_tests"] == ["test_answer_is_42"]
    assert Path(good["oracle"]["trial_dir"]).parent == tmp_path / "trials"

    expected_first_reason = {
        "no-instruction": "instruction.md is missing",
        "bad-toml": "task.toml is not valid TOML",
        "missing": f"{tmp_path / 'missing'} does not exist",
        "alpine": "build: ",
        "build-fails": "build: ",
    }
    for name, start in expected_first_reason.items():
        task = by_name[name]
        assert task["verdict"] == "invalid" and len(task["reasons"]) == 1, task
        assert task["reasons"][0].startswith(start)
        assert f"{name}: {task['reasons'][0]}" in out.splitlines()  # one line per problem
    assert "alpine:3.19" in by_name["alpine"]["reasons"][0] and "--env docker" in by_name["alpine"]["reasons"][0]
    assert "exit 7" in by_name["build-fails"]["reasons"][0]
    assert by_name["build-fails"]["build"] == "failed" and by_name["build-fails"]["nop"] is None
    assert by_name["no-instruction"]["build"] == "skipped" and by_name["no-instruction"]["oracle"] is None
    assert {name: task["failure_class"] for name, task in by_name.items()} == {
        "good": None, "no-instruction": "broken", "bad-toml": "broken", "missing": "broken",
        "alpine": "unsupported-base", "build-fails": "broken"}
    assert by_name["alpine"]["failure_detail"] == "alpine:3.19"
    assert report["failure_classes"] == {"broken": 4, "unsupported-base": 1}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".report")] == []  # temp file renamed away


def test_broken_tasks_exit_1_with_reasons(task_variant, tmp_path, monkeypatch, capsys):
    task_variant("wrong-oracle", replace={"solution/solve.sh": ("echo 42", "echo 41")})
    task_variant("tests-check-nothing", files={"tests/test.sh": "#!/bin/bash\necho 1 > /logs/verifier/reward.txt\n"})
    report_path = tmp_path / "report.json"
    code, out, _ = run_cli(
        ["tasks", "check", str(tmp_path / "tasks"), "--json", str(report_path), "--trials-dir", str(tmp_path / "t")],
        monkeypatch, capsys,
    )
    assert code == 1
    by_name = {t["task"]: t for t in json.loads(report_path.read_text())["tasks"]}
    wrong = by_name["wrong-oracle"]
    assert wrong["verdict"] == "broken" and wrong["oracle"]["reward"] == 0.0
    assert wrong["reasons"] == [
        "oracle: reward 0.0 < 1.0 with the reference solution; failing tests: test_answer_is_42"
    ]
    lax = by_name["tests-check-nothing"]
    assert lax["verdict"] == "broken" and lax["oracle"]["reward"] == 1.0 and lax["nop"]["reward"] == 1.0
    assert lax["reasons"][0].startswith("nop: the untouched environment already passes the tests")
    assert (wrong["failure_class"], wrong["oracle_rerun"]["reward"]) == ("broken", 0.0)  # failed alike twice
    assert (lax["failure_class"], lax["oracle_rerun"]) == ("broken", None)  # a passing oracle is not run again
    assert "2 task(s): 2 broken" in out


def test_oracle_failure_without_ctrf_quotes_the_verifier_output(task_variant, tmp_path, monkeypatch, capsys):
    verifier = "#!/bin/bash\necho 'checking answer'\necho 'expected 42, got nothing'\necho 0 > /logs/verifier/reward.txt\n"
    task = task_variant("plain-verifier", files={"tests/test.sh": verifier})
    code, out, _ = run_cli(["tasks", "check", str(task), "--trials-dir", str(tmp_path / "t")], monkeypatch, capsys)
    assert code == 1
    assert (
        "plain-verifier: oracle: reward 0.0 < 1.0 with the reference solution; "
        "verifier output ends: checking answer | expected 42, got nothing"
    ) in out.splitlines()


def test_all_valid_exits_0(task_variant, tmp_path, monkeypatch, capsys):
    task = task_variant("good")
    code, out, _ = run_cli(["tasks", "check", str(task), "--trials-dir", str(tmp_path / "t")], monkeypatch, capsys)
    assert code == 0
    row = next(line for line in out.splitlines() if "good" in line and "valid" in line)
    assert "ok " in row and "│ 1 " in row and "│ 0 " in row


def test_unknown_env_is_one_line_exit_2(task_variant, tmp_path, monkeypatch, capsys):
    task = task_variant("good")
    code, out, err = run_cli(["tasks", "check", str(task), "--env", "dokcer"], monkeypatch, capsys)
    assert code == 2 and out == ""
    assert err.startswith("error: --env 'dokcer' is not a known environment; use one of: local, docker")
    assert err.count("\n") == 1


def test_env_whose_preflight_fails_is_one_line_exit_2(task_variant, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))  # no docker binary anywhere
    code, out, err = run_cli(["tasks", "check", str(task_variant("good")), "--env", "docker"], monkeypatch, capsys)
    assert code == 2 and out == ""
    assert err == (
        "error: --env docker: Docker is not installed or not on PATH. Please install Docker and try again; "
        "fix that or use another --env (local needs no daemon)\n"
    )


def test_json_into_missing_directory_is_a_user_error(task_variant, tmp_path, monkeypatch, capsys):
    (tmp_path / "empty").mkdir()
    code, out, err = run_cli(
        ["tasks", "check", str(tmp_path / "empty"), "--json", str(tmp_path / "no" / "r.json")], monkeypatch, capsys
    )
    assert code == 2 and out == "" and err.startswith(f"error: --json {tmp_path / 'no' / 'r.json'}: directory")
