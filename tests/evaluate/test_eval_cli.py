"""`skillspark eval` as a user runs it: the whole CLI, a kill -9 then --resume, a refused resume, the report."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from skillspark.evaluate.results import read_results
from tests.agents.greet_task import make_task

from .test_runner import STUDENT, explore_output

pytestmark = pytest.mark.timeout(600)
SKILLSPARK = Path(sys.executable).with_name("skillspark")
ROOT = Path(__file__).resolve().parents[2]


def argv(task: Path, runs: Path, out: Path, *extra: str) -> list[str]:
    return [
        str(SKILLSPARK),
        "eval",
        str(task),
        "--model",
        "scripted/student",
        "--agent",
        STUDENT,
        "-k",
        "2",
        "--condition",
        "none",
        "--condition",
        f"generated={runs}",
        "--output",
        str(out),
        "-p",
        "2",
        "--seed",
        "5",
        *extra,
    ]


def env(**extra: str) -> dict[str, str]:
    return os.environ | {"PYTHONPATH": str(ROOT), "COLUMNS": "200"} | extra


@pytest.fixture
def setup(tmp_path):
    return make_task(tmp_path / "tasks"), explore_output(tmp_path / "runs"), tmp_path / "out"


def test_eval_writes_results_summary_and_report(setup):
    task, runs, out = setup
    done = subprocess.run(argv(task, runs, out), check=False, capture_output=True, text=True, env=env(), timeout=500)
    assert done.returncode == 0, done.stderr[-3000:]

    summary = json.loads((out / "summary.json").read_text())
    rates = {arm["condition"]: arm["pass_rate"] for arm in summary["arms"]}
    assert rates == {"none": 0.0, "generated": 1.0}
    read = {arm["condition"]: arm["skill_read_rate"] for arm in summary["arms"]}
    assert read == {"none": 0.0, "generated": 1.0}
    assert (out / "report.html").stat().st_size > 0
    assert "generated" in done.stdout and "report:" in done.stdout

    (out / "report.html").unlink()
    again = subprocess.run(
        [str(SKILLSPARK), "eval", "report", str(out)],
        check=False,
        capture_output=True,
        text=True,
        env=env(),
        timeout=300,
    )
    assert again.returncode == 0, again.stderr[-3000:]
    assert (out / "report.html").is_file()


def test_kill_9_then_resume_repeats_nothing_and_loses_nothing(setup, tmp_path):
    task, runs, out = setup
    hold = tmp_path / "hold"
    hold.mkdir()
    child = subprocess.Popen(
        argv(task, runs, out),
        env=env(SKILLSPARK_TEST_STUDENT_HOLD=str(hold)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 300
        while len(read_results(out)) < 2 or len(list(hold.glob("started-*"))) < 3:
            assert child.poll() is None and time.monotonic() < deadline, "the eval never reached its third trial"
            time.sleep(0.2)
        before = [r.key for r in read_results(out)]
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()

    resumed = subprocess.run(
        argv(task, runs, out, "--resume"), check=False, capture_output=True, text=True, env=env(), timeout=500
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    keys = [r.key for r in read_results(out)]
    assert len(keys) == len(set(keys)) == 1 * 2 * 1 * 2  # tasks × conditions × models × k
    assert keys[: len(before)] == before


def test_changed_task_refuses_resume_in_one_line(setup):
    task, runs, out = setup
    first = subprocess.run(
        argv(task, runs, out, "-k", "1"), check=False, capture_output=True, text=True, env=env(), timeout=500
    )
    assert first.returncode == 0, first.stderr[-3000:]
    (task / "instruction.md").write_text("Create /app/greeting.txt holding hello, in lower case.\n")

    refused = subprocess.run(
        argv(task, runs, out, "-k", "1", "--resume"),
        check=False,
        capture_output=True,
        text=True,
        env=env(),
        timeout=300,
    )
    assert refused.returncode == 2
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --resume") and "tasks greet" in lines[0]


def test_live_table_counts_per_arm_and_leaves_infra_errors_out_of_the_rate(tmp_path):
    from rich.console import Console

    from skillspark.evaluate.results import EvalResult
    from skillspark.evaluate.runner import EvalPlan, Unit
    from skillspark.evaluate.service import ArmBoard

    units = [Unit(task="t", condition=c, model="m", trial=i) for c in ("none", "generated") for i in range(2)]

    def result(condition: str, trial: int, status: str) -> EvalResult:
        return EvalResult(task="t", condition=condition, model="m", trial=trial, reward=None, passed=status == "pass",
                          status=status, tokens_in=1, tokens_out=1, cost_usd=0.25, duration_s=1.0,
                          skill_sha256=None, skill_read=False, trial_dir="x")

    board = ArmBoard(EvalPlan(cells={}, units=units, done=[result("generated", 0, "pass")], config={}))
    board.add(result("generated", 1, "infra_error"))
    board.add(result("none", 0, "fail"))
    console = Console(file=io.StringIO(), width=120)
    console.print(board)
    text = console.file.getvalue()
    assert "3/4 trials" in text
    rows = {line.split("│")[2].strip(): line for line in text.splitlines() if line.count("│") >= 5}
    assert "2/2" in rows["generated"] and "100.0%" in rows["generated"] and "0.5000" in rows["generated"]
    assert "1/2" in rows["none"] and "0.0%" in rows["none"]


def test_report_without_results_is_one_line(tmp_path):
    done = subprocess.run([str(SKILLSPARK), "eval", "report", str(tmp_path)], check=False, capture_output=True,
                          text=True, env=env(), timeout=120)
    assert done.returncode == 2
    expected = f"error: {tmp_path / 'results.jsonl'}: no finished trial to report; "
    expected += f"run `skillspark eval` with --output {tmp_path}"
    assert done.stderr.strip().splitlines() == [expected]


def _eval_library(task: Path, library: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SKILLSPARK), "eval", str(task), "--model", "scripted/student", "--agent", STUDENT, "-k", "1",
         "--condition", "none", "--condition", f"library={library}", "--output", str(out)],
        check=False, capture_output=True, text=True, env=env(), timeout=300)


def test_a_linked_skill_md_in_a_library_is_refused_and_never_copied(tmp_path):
    """Issue 19 finding 1, the repro: `ln -s SECRET L/leak/SKILL.md`, then `eval TASK --condition library=L`."""
    task = make_task(tmp_path / "tasks")
    secret = tmp_path / "host" / ".secret"
    secret.parent.mkdir()
    secret.write_text("root-only-secret-7f3a\n")
    secret.chmod(0o600)
    (tmp_path / "L" / "leak").mkdir(parents=True)
    (tmp_path / "L" / "leak" / "SKILL.md").symlink_to(secret)
    out = tmp_path / "out"
    done = _eval_library(task, tmp_path / "L", out)

    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"error: {tmp_path / 'L' / 'leak' / 'SKILL.md'}: a symbolic link")
    copied = [p for p in out.rglob("*") if p.is_file() and "root-only-secret" in p.read_text(errors="replace")]
    assert copied == [] and not (out / "skills").exists()


def test_a_huge_sparse_file_in_a_skill_is_refused_before_any_trial(tmp_path):
    """Issue 19 finding 10: refused before running (one line, exit 2), nothing read whole or copied dense."""
    task = make_task(tmp_path / "tasks")
    skill = tmp_path / "L" / "big"
    (skill / "assets").mkdir(parents=True)
    (skill / "SKILL.md").write_text("---\nname: big\ndescription: A skill with a large asset.\n---\nuse it\n")
    with (skill / "assets" / "blob.bin").open("wb") as handle:
        handle.truncate(2**30)
    out = tmp_path / "out"
    done = _eval_library(task, tmp_path / "L", out)

    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"error: {skill}: the skill's files hold 1,073,741,") and "cap of one skill" in line
    assert not (out / "skills").exists() and not (out / "results.jsonl").exists()
