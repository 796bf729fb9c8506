"""`skillspark demo` end to end: check the tasks, explore the trivial one, summarize, A/B (scripted endpoint)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from skillspark.agents.prompts import DEMONSTRATION
from skillspark.demo import _eval_stage
from skillspark.explore.records import TaskSummary
from skillspark.explore.skillspec import check_skill_text
from tests.fakes.scripted_openai import Reply, ScriptedRequest

REPO = Path(__file__).resolve().parents[1]
SKILLSPARK = Path(sys.executable).with_name("skillspark")
SKILL = (
    "---\nname: hello-greeting\ndescription: Write a word into a file. Use when a task asks for a file holding "
    "a given word.\n---\n# Write a word to a file\n1. echo the word with a redirect.\n2. cat the file to check.\n"
)

pytestmark = pytest.mark.timeout(600)


def teacher(request: ScriptedRequest) -> Reply:
    """The agent writes the file then submits; the distiller answers with a valid skill."""
    system = str(request.messages[0].get("content", ""))
    if system.startswith("You turn evidence"):
        return Reply(text=SKILL)
    turns = request.messages[1 + len(DEMONSTRATION) :]
    if any(m.get("role") == "assistant" for m in turns):
        return Reply(text="Done.\n```bash\nsubmit\n```")
    return Reply(text="Write it.\n```bash\necho hello > /app/greeting.txt\n```")


def test_demo_checks_explores_points_at_the_skill_and_evaluates_it(scripted_llm, tmp_path):
    tasks = tmp_path / "tasks"
    shutil.copytree(REPO / "examples" / "tasks" / "hello-greeting", tasks / "hello-greeting")
    scripted_llm.responder = teacher
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path), "OPENAI_API_KEY": "sk-test-demo",
           "OPENAI_BASE_URL": scripted_llm.base_url}
    run = subprocess.run(
        [str(SKILLSPARK), "demo", "--model", f"openai/{scripted_llm.model}", "--tasks-dir", str(tasks),
         "--difficulty", "trivial", "--output", str(tmp_path / "out"), "--student", f"openai/{scripted_llm.model}"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=500,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = " ".join(run.stdout.split())  # rich may wrap long lines
    assert "1 task(s): 1 valid" in out  # the check ran oracle and nop first
    skill = tmp_path / "out" / "explore" / "hello-greeting" / "SKILL.md"
    assert "hello-greeting: solved after 1 attempt(s); rewards 1" in out
    assert f"SKILL.md: {skill}" in out
    assert check_skill_text(skill.read_text(), "hello-greeting") == []
    assert (tmp_path / "out" / "check-report.json").is_file()
    assert "sk-test-demo" not in run.stdout + run.stderr

    evaluated = tmp_path / "out" / "eval"  # the last stage: the student with and without that skill, k = 3
    rows = [json.loads(line) for line in (evaluated / "results.jsonl").read_text().splitlines()]
    assert sorted((r["task"], r["condition"], r["trial"]) for r in rows) == sorted(
        ("hello-greeting", arm, trial) for arm in ("none", "generated") for trial in range(3))
    summary = json.loads((evaluated / "summary.json").read_text())
    [comparison] = summary["comparisons"]
    assert (comparison["baseline"], comparison["condition"], comparison["n_tasks"]) == ("none", "generated", 1)
    assert comparison["verdict"] in out  # the delta, its CI and p in words
    assert f"report: {evaluated / 'report.html'}" in out and (evaluated / "report.html").is_file()


def test_eval_stage_without_a_skill_says_so_and_runs_nothing(tmp_path):
    """No SKILL.md means nothing to compare: one line, no eval folder (and no model needed)."""
    from rich.console import Console

    console = Console(record=True, width=200)
    failed = TaskSummary(task_name="hello-greeting", success=False, total_attempts=3, reward_trajectory=[0, 0, 0],
                         status_trajectory=["fail"] * 3, total_time_s=1.0, reason="no attempt passed")
    _eval_stage([failed], [REPO / "examples" / "tasks" / "hello-greeting"], tmp_path / "explore",
                tmp_path / "eval", student="openai/none", env="local", seed=0, console=console)
    assert console.export_text().strip().splitlines() == [
        "4. no task produced a SKILL.md, so there is no skill to evaluate: A/B stage skipped"]
    assert not (tmp_path / "eval").exists()


def test_demo_without_tasks_is_one_line_and_exit_2(tmp_path):
    run = subprocess.run([str(SKILLSPARK), "demo", "--tasks-dir", str(tmp_path / "none")],
                         capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert run.returncode == 2
    assert run.stderr.strip().count("\n") == 0 and "--tasks-dir" in run.stderr
