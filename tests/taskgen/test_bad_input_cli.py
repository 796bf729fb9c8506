"""Bad task input through the real `skillspark` entry point: one line per task, the rest of the batch goes on."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.taskgen.test_check_cli import run_cli

pytestmark = pytest.mark.timeout(300)
SKILLSPARK = str(Path(sys.executable).parent / "skillspark")
FAILING_RUN_TASK = Path(__file__).parents[1] / "sandbox" / "tasks" / "failing-run"


def test_json_path_that_is_a_directory_is_one_line_exit_2(tmp_path, monkeypatch, capsys):
    code, _, err = run_cli(["tasks", "check", str(tmp_path), "--json", str(tmp_path)], monkeypatch, capsys)
    assert code == 2
    assert err == f"error: --json {tmp_path} is a directory; give a file path such as {tmp_path / 'report.json'}\n"


def test_one_check_run_over_a_batch_of_bad_inputs(task_variant, tmp_path, monkeypatch, capsys):
    task_variant("legacy-name", replace={"task.toml": ('schema_version = "1.1"\n', 'schema_version = "1.1"\n[task]\nname = "answer"\n')})
    broken = task_variant("not-utf8")
    (broken / "instruction.md").write_bytes(b"Write 42 to /app/answer.txt \xe9\n")  # latin-1, not UTF-8
    task_variant("slow-build", replace={
        "environment/Dockerfile": ("WORKDIR /app", "WORKDIR /app\nRUN sleep 30"),
        "task.toml": ("build_timeout_sec = 120.0", "build_timeout_sec = 2.0"),
    })
    task_variant("no-reward", files={"tests/test.sh": "#!/bin/bash\necho checking /app/answer.txt\n"
                                                      "echo giving up before reward.txt\n"})
    report_path = tmp_path / "report.json"
    code, out, err = run_cli(
        ["tasks", "check", str(tmp_path / "tasks"), "--json", str(report_path), "--trials-dir", str(tmp_path / "trials"),
         "-p", "2"],
        monkeypatch, capsys,
    )
    assert code == 2 and "Traceback" not in err
    by_name = {t["task"]: t for t in json.loads(report_path.read_text())["tasks"]}
    assert set(by_name) == {"answer", "not-utf8", "slow-build", "no-reward"}

    legacy = by_name["answer"]  # Harbor refuses the name; we run it from a copy and say so
    assert legacy["verdict"] == "valid" and legacy["oracle"]["reward"] == 1.0, legacy
    assert any("[task] name 'answer' is not in Harbor's org/name form" in w for w in legacy["warnings"])

    assert by_name["not-utf8"]["verdict"] == "invalid"
    assert by_name["not-utf8"]["reasons"] == ["instruction.md is not valid UTF-8 (byte 0xe9 on line 1); re-save it as UTF-8"]

    slow = by_name["slow-build"]
    assert (slow["verdict"], slow["build"], slow["nop"]) == ("invalid", "failed", None)
    assert slow["reasons"][0].startswith("build: build timed out after 2 s; raise environment.build_timeout_sec")

    no_reward = by_name["no-reward"]
    assert no_reward["verdict"] == "broken", no_reward
    assert no_reward["reasons"][0] == (
        "oracle: the verifier ended without writing /logs/verifier/reward.txt or reward.json; its output ends: "
        "checking /app/answer.txt | giving up before reward.txt; make tests/test.sh write the reward on every path"
    )
    assert f"no-reward: {no_reward['reasons'][0]}" in out


def test_sandbox_exec_build_failure_is_one_line_with_step_and_output(tmp_path):
    env = {**os.environ, "SKILLSPARK_CACHE_DIR": str(tmp_path / "cache")}
    result = subprocess.run([SKILLSPARK, "sandbox", "exec", str(FAILING_RUN_TASK), "--", "true"],
                            capture_output=True, text=True, env=env, timeout=240)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: build failed: RUN echo about-to-fail && exit 3 (exit 3) at ")
    assert result.stderr.endswith("line 3; output ends: about-to-fail; fix that step of the Dockerfile\n")


def _alpine(task_variant) -> Path:
    return task_variant("alpine", replace={"environment/Dockerfile": ("debian:bookworm-slim", "alpine:3.19")})


def test_run_leaves_out_an_unsupported_image_runs_the_rest_and_exits_2(task_variant, tmp_path, monkeypatch, capsys):
    _alpine(task_variant)
    task_variant("good")
    code, out, err = run_cli(["run", str(tmp_path / "tasks"), "--agent", "oracle", "--output", str(tmp_path / "jobs")],
                             monkeypatch, capsys)
    assert code == 2
    lines = err.splitlines()
    assert lines[0].startswith("error: task alpine: ") and "alpine:3.19" in lines[0] and "--env docker" in lines[0]
    assert lines[-1] == "error: 1 task(s) were left out (listed above); fix them and run them again"
    summary = json.loads(next((tmp_path / "jobs").glob("run-*/summary.json")).read_text())
    assert [(t["task"], t["rewards"]) for t in summary["tasks"]] == [("good", [1.0])]


def test_explore_with_nothing_runnable_lists_every_task_and_starts_nothing(task_variant, tmp_path, monkeypatch, capsys):
    _alpine(task_variant)
    broken = task_variant("not-utf8")
    (broken / "environment" / "Dockerfile").write_bytes(b"FROM debian:bookworm-slim\nRUN echo \xff\n")
    output = tmp_path / "out"
    code, _, err = run_cli(["explore", str(tmp_path / "tasks"), "--output", str(output)], monkeypatch, capsys)
    assert code == 2 and "Traceback" not in err
    assert err.splitlines() == [
        err.splitlines()[0],
        "error: task not-utf8: environment/Dockerfile is not valid UTF-8 (byte 0xff on line 2); re-save it as UTF-8",
        "error: no runnable task left in the batch; fix the problems listed above",
    ]
    assert err.startswith("error: task alpine: ")
    assert not output.exists()


def test_run_caps_a_huge_instruction_with_a_marker_and_a_warning(tmp_path, scripted_llm, monkeypatch, capsys, caplog):
    from skillspark.agents.prompts import PROMPT_TEXT_MAX_BYTES
    from tests.agents.greet_task import make_task

    task = make_task(tmp_path / "tasks", "huge")
    instruction = "Create /app/greeting.txt containing hello.\n" + "filler line\n" * 200_000 + "THE END\n"
    (task / "instruction.md").write_text(instruction)
    scripted_llm.responder = lambda request: "```bash\necho hello > /app/greeting.txt\nsubmit\n```"
    code, _, err = run_cli(["run", str(task), "--model", scripted_llm.model, "--api-base", scripted_llm.base_url,
                            "--output", str(tmp_path / "jobs")], monkeypatch, capsys)
    assert code == 0, err
    sent = scripted_llm.requests[0].last_user_text
    cut = len(instruction.strip().encode()) - PROMPT_TEXT_MAX_BYTES
    assert f"\n[... {cut} bytes cut ...]\n" in sent
    assert sent.startswith("Task:\nCreate /app/greeting.txt") and "THE END" in sent  # head and tail kept
    assert len(sent.encode()) < PROMPT_TEXT_MAX_BYTES + 200
    assert f"the instruction is {len(instruction.strip().encode())} bytes; the model gets its first and last" in caplog.text
