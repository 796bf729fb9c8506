"""`skillspark demo` end to end: check, explore the trivial task, summarize, the positive control (scripted endpoint)."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from skillspark.agents.prompts import DEMONSTRATION
from skillspark.agents.skill_context import SkillsMode
from skillspark.core.skillspec import check_skill_text
from skillspark.demo import EVAL_K, EVAL_MAX_STEPS, _eval_stage
from tests.fakes.scripted_openai import Reply, ScriptedRequest

REPO = Path(__file__).resolve().parents[1]
SKILLSPARK = Path(sys.executable).with_name("skillspark")
SKILL = (
    "---\nname: hello-greeting\ndescription: Write a word into a file. Use when a task asks for a file holding "
    "a given word.\n---\n# Write a word to a file\n1. echo the word with a redirect.\n2. cat the file to check.\n"
)

pytestmark = pytest.mark.timeout(600)
DECISIVE = ("deploy-codeword", "outbox-handoff", "release-unlock")


def teacher(request: ScriptedRequest) -> Reply:
    """The agent runs the command of a skill shown before the task, else writes hello, then submits.

    The distiller answers with a valid skill.
    """
    system = str(request.messages[0].get("content", ""))
    if system.startswith("You turn evidence"):
        return Reply(text=SKILL)
    turns = request.messages[1 + len(DEMONSTRATION) :]
    if any(m.get("role") == "assistant" for m in turns):
        return Reply(text="Done.\n```bash\nsubmit\n```")
    shown = re.search(r"```bash\n([^\n]+)\n```\n</skill>", str(turns[0].get("content", "")))
    command = shown.group(1) if shown else "echo hello > /app/greeting.txt"
    return Reply(text=f"Run it.\n```bash\n{command}\n```")


def test_demo_checks_explores_points_at_the_skill_and_runs_the_positive_control(scripted_llm, tmp_path):
    tasks = tmp_path / "tasks"
    shutil.copytree(REPO / "examples" / "tasks" / "hello-greeting", tasks / "hello-greeting")
    decisive = tmp_path / "decisive"
    for name in DECISIVE:
        shutil.copytree(REPO / "examples" / "decisive-tasks" / name, decisive / name)
    scripted_llm.responder = teacher
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path), "OPENAI_API_KEY": "sk-test-demo",
           "OPENAI_BASE_URL": scripted_llm.base_url}
    run = subprocess.run(
        [str(SKILLSPARK), "demo", "--model", f"openai/{scripted_llm.model}", "--tasks-dir", str(tasks),
         "--difficulty", "trivial", "--output", str(tmp_path / "out"), "--student", f"openai/{scripted_llm.model}",
         "--ab-tasks-dir", str(decisive)],
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

    evaluated = tmp_path / "out" / "eval"  # the last stage: the decisive tasks without and with their skills
    rows = [json.loads(line) for line in (evaluated / "results.jsonl").read_text().splitlines()]
    assert sorted((r["task"], r["condition"], r["trial"]) for r in rows) == sorted(
        (name, arm, trial) for name in DECISIVE for arm in ("none", "curated")
        for trial in range(EVAL_K))
    assert {r["skills_mode"] for r in rows} == {"inline"}
    assert {(r["condition"], r["passed"]) for r in rows} == {("none", False), ("curated", True)}
    summary = json.loads((evaluated / "summary.json").read_text())
    [comparison] = summary["comparisons"]
    assert (comparison["baseline"], comparison["condition"], comparison["n_tasks"]) == ("none", "curated", 3)
    assert summary["skills_mode"] == "inline" and "4. positive control" in out
    assert comparison["verdict"] in out  # the delta, its CI and p in words
    assert f"report: {evaluated / 'report.html'}" in out and (evaluated / "report.html").is_file()


def test_control_adds_the_generated_arm_only_where_exploration_made_a_skill(tmp_path, monkeypatch):
    """`none` vs `curated`, inline; `generated` joins when explore made a SKILL.md for a task of the suite."""
    from rich.console import Console

    from skillspark.evaluate import service

    calls = []
    monkeypatch.setattr(service, "evaluate", lambda paths, request, console: calls.append(request))
    suite = [REPO / "examples" / "decisive-tasks" / name for name in DECISIVE]
    explore = tmp_path / "explore"
    console = Console(file=io.StringIO())
    _eval_stage(suite, explore, tmp_path / "eval", student="openai/x", env="local", seed=0, console=console)
    (explore / "deploy-codeword").mkdir(parents=True)
    (explore / "deploy-codeword" / "SKILL.md").write_text(SKILL)
    _eval_stage(suite, explore, tmp_path / "eval", student="openai/x", env="local", seed=0, console=console)

    assert [[c.label for c in r.conditions] for r in calls] == [["none", "curated"], ["none", "curated", "generated"]]
    assert calls[1].conditions[2].source == explore.resolve()
    assert {(r.skills_mode, r.k, r.max_steps) for r in calls} == {(SkillsMode.inline, EVAL_K, EVAL_MAX_STEPS)}


def test_demo_without_tasks_is_one_line_and_exit_2(tmp_path):
    run = subprocess.run([str(SKILLSPARK), "demo", "--tasks-dir", str(tmp_path / "none")],
                         capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert run.returncode == 2
    assert run.stderr.strip().count("\n") == 0 and "--tasks-dir" in run.stderr
