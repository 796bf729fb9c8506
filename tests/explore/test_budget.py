"""`--max-cost` on explore: one budget across agent, summarizer and distiller, a clean stop, and --resume.

The summarizer and distiller are real LLMClients over HTTP to the scripted endpoint, priced as
gpt-4o-mini by litellm's table ($0.15 / 1M input, $0.60 / 1M output tokens): a reply scripted with 1000
prompt and 500 completion tokens costs 0.00015 + 0.0003 = $0.00045. The agent's spend comes from a
scripted runner here (its trial reports `cost_usd`, as Harbor's does); test_budget_cli.py runs the real
agent in a Harbor trial.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from skillspark.explore.loop import explore_tasks
from skillspark.explore.settings import ExploreSettings
from skillspark.explore.runner import AttemptOutcome
from skillspark.explore.spend import SpendLedger
from skillspark.errors import UserError
from tests.fakes.scripted_openai import Reply, ScriptedRequest

MODEL = "openai/gpt-4o-mini"
CALL = {"prompt_tokens": 1000, "completion_tokens": 500}  # $0.00045 per summarizer/distiller call
FAILED = "FAILED tests/test_outputs.py::test_word - AssertionError"
PASSED_CTRF = {"results": {"tests": [{"name": "test_outputs.py::test_word", "status": "passed"}]}}
MEMO = ("## Exploration Memo (1 failed attempts)\n\n### Attempts Log\n- #1: wrote the wrong word\n\n"
        "### Commands From Last Attempt\necho hi > /app/out.txt\n\n### Verified Facts\n- /app is writable\n\n"
        "### Current Error Pattern\nthe file holds the wrong word\n\n### Next Strategy\nwrite the word asked for\n")
SKILL = ("---\nname: {name}\ndescription: Write a word to a file. Use when a task asks for a file with given text.\n"
         "---\n# Write a word to a file\n1. Run `echo hello > /app/out.txt`.\n2. Run `cat /app/out.txt` to check.\n")


class PricedRunner:
    """Each attempt's agent 'spends' `cost` and passes from attempt `pass_at`; records what it was allowed."""

    def __init__(self, cost: float, pass_at: int = 99):
        self.cost, self.pass_at = cost, pass_at
        self.calls: list[tuple[str, int, float | None]] = []  # (task, attempt, max_cost_usd)

    async def run(self, task_dir, *, attempt, extra_prompt, jobs_dir, max_cost_usd=None):
        self.calls.append((Path(task_dir).name, attempt, max_cost_usd))
        if attempt >= self.pass_at:
            return AttemptOutcome(reward=1.0, ctrf=PASSED_CTRF, commands=["echo hello > /app/out.txt"],
                                  cost_usd=self.cost)
        return AttemptOutcome(reward=0.0, verifier_stdout=FAILED, commands=["echo hi > /app/out.txt"],
                              cost_usd=self.cost)


def by_role(request: ScriptedRequest) -> Reply:
    """The summarizer gets a memo, the distiller a SKILL.md; every reply is priced like CALL."""
    system = str(request.messages[0].get("content", "")) if request.messages else ""
    if system.startswith("You keep the exploration memo"):
        return Reply(text=MEMO, **CALL)
    name = request.last_user_text.split("use exactly): ", 1)[-1].split("\n", 1)[0].strip()
    return Reply(text=SKILL.format(name=name), **CALL)


def make_task(root: Path, name: str) -> Path:
    """A task that wants `hello` in /app/out.txt (shell verifier, so it also runs in the real sandbox)."""
    task = root / name
    for sub in ("environment", "tests", "solution"):
        (task / sub).mkdir(parents=True)
    (task / "instruction.md").write_text("Create /app/out.txt containing the word hello.\n")
    (task / "task.toml").write_text(f'schema_version = "1.4"\n[task]\nname = "skillspark/{name}"\n'
                                    "[verifier]\ntimeout_sec = 60.0\n[agent]\ntimeout_sec = 120.0\n")
    (task / "environment" / "Dockerfile").write_text("FROM python:3.11-slim-bookworm\nWORKDIR /app\n")
    (task / "solution" / "solve.sh").write_text("#!/bin/bash\necho hello > /app/out.txt\n")
    (task / "tests" / "test.sh").write_text(
        '#!/bin/bash\nmkdir -p /logs/verifier\nif [ "$(cat /app/out.txt 2>/dev/null)" = hello ]; then\n'
        "  echo 1 > /logs/verifier/reward.txt\nelse\n  echo 'out.txt does not hold hello'\n"
        "  echo 0 > /logs/verifier/reward.txt\nfi\n")
    for script in ("tests/test.sh", "solution/solve.sh"):
        (task / script).chmod(0o755)
    return task


def settings(server, out: Path, max_cost: float | None, **kw) -> ExploreSettings:
    return ExploreSettings(model=MODEL, api_base=server.base_url, output=out, max_retries=4, max_cost_usd=max_cost,
                           llm_retries=0, **kw)


def state(out: Path, task: str) -> dict:
    return json.loads((out / task / "attempts.json").read_text())


def log(out: Path, task: str) -> list[dict]:
    return [json.loads(line) for line in (out / task / "trajectory.jsonl").read_text().splitlines()]


async def test_agent_spending_the_rest_stops_the_task_mid_run_and_resume_continues(scripted_llm, tmp_path):
    scripted_llm.responder = by_role
    tasks, out = tmp_path / "tasks", tmp_path / "out"
    task = make_task(tasks, "greet")
    # attempt 0: agent $0.0004 + memo $0.00045 = $0.00085; attempt 1: agent $0.0004 -> $0.00125 >= $0.001
    runner = PricedRunner(cost=0.0004)
    [summary] = await explore_tasks([task], settings(scripted_llm, out, 0.001), runner=runner)

    assert summary.state == "budget_exhausted"
    assert "cost budget spent during attempt 2, which is not kept" in summary.reason and "--resume" in summary.reason
    assert [(a, round(m, 8)) for _, a, m in runner.calls] == [(0, 0.001), (1, 0.00015)]  # the agent got the rest
    assert len(scripted_llm.requests) == 1  # one memo; nothing after the budget ran out
    saved = state(out, "greet")
    assert saved["state"] == "budget_exhausted" and [a["attempt"] for a in saved["attempts"]] == [0]
    records = log(out, "greet")
    assert [r["type"] for r in records] == ["execution_result", "pdi_snapshot", "reflect_call",
                                            "execution_result", "task_summary"]  # attempt 1 logged, not committed
    assert records[-1]["state"] == "budget_exhausted" and records[-1]["exploration_config"]["max_cost_usd"] == 0.001
    assert json.loads((out / "spend.json").read_text())["spent_usd"] == pytest.approx(0.00125)

    # the same limit again: earlier spend counts, so nothing runs and nothing is called
    [again] = await explore_tasks([task], settings(scripted_llm, out, 0.001, resume=True), runner=runner)
    assert again.state == "budget_exhausted" and "before attempt 2" in again.reason
    assert len(runner.calls) == 2 and len(scripted_llm.requests) == 1

    # a higher limit continues where the run stopped: attempt 1 again (it was not kept), then the skill
    resumed = PricedRunner(cost=0.0004, pass_at=1)
    [done] = await explore_tasks([task], settings(scripted_llm, out, 0.01, resume=True), runner=resumed)
    assert done.state == "solved" and done.status_trajectory == ["FAIL", "PASS"]
    assert [(a, round(m, 8)) for _, a, m in resumed.calls] == [(1, 0.01 - 0.00125)]
    assert (out / "greet" / "SKILL.md").exists()
    records = log(out, "greet")
    assert [r["attempt"] for r in records if r["type"] == "execution_result"] == [0, 1]
    assert [r["type"] for r in records].count("task_summary") == 1
    assert json.loads((out / "spend.json").read_text())["spent_usd"] >= 0.00125 + 0.0004 + 0.00045 - 1e-12


async def test_summarizer_spending_it_stops_the_next_attempt_and_the_tasks_not_started(scripted_llm, tmp_path):
    scripted_llm.responder = by_role
    tasks, out = tmp_path / "tasks", tmp_path / "out"
    first, second = make_task(tasks, "first"), make_task(tasks, "second")
    runner = PricedRunner(cost=0.0001)  # attempt 0: $0.0001 + memo $0.00045 = $0.00055 >= $0.0005
    summaries = await explore_tasks([first, second], settings(scripted_llm, out, 0.0005), runner=runner)

    assert [s.state for s in summaries] == ["budget_exhausted", "budget_exhausted"]
    assert "before attempt 2" in summaries[0].reason and "before attempt 1" in summaries[1].reason
    assert [(t, a) for t, a, _ in runner.calls] == [("first", 0)]  # the second task's agent never ran
    assert len(scripted_llm.requests) == 1
    assert [a["attempt"] for a in state(out, "first")["attempts"]] == [0]  # the finished attempt is kept
    assert state(out, "second")["attempts"] == [] and log(out, "second")[-1]["state"] == "budget_exhausted"


async def test_a_pass_that_spends_the_rest_is_kept_and_its_skill_comes_with_resume(scripted_llm, tmp_path):
    scripted_llm.responder = by_role
    task, out = make_task(tmp_path / "tasks", "greet"), tmp_path / "out"
    runner = PricedRunner(cost=0.002, pass_at=0)
    [summary] = await explore_tasks([task], settings(scripted_llm, out, 0.001), runner=runner)

    assert summary.state == "budget_exhausted" and summary.status_trajectory == ["PASS"]
    assert "the skill of attempt 1, which passed" in summary.reason
    assert scripted_llm.requests == [] and not (out / "greet" / "SKILL.md").exists()

    rerun = PricedRunner(cost=0.002, pass_at=0)
    [done] = await explore_tasks([task], settings(scripted_llm, out, 0.01, resume=True), runner=rerun)
    assert done.state == "solved" and rerun.calls == []  # distilled without running the agent again
    assert (out / "greet" / "SKILL.md").exists() and len(scripted_llm.requests) >= 1


def test_spend_file_is_read_on_resume_only_and_a_broken_one_is_a_user_error(tmp_path):
    ledger = SpendLedger(tmp_path, 1.0, resume=False)
    ledger.budget.add(0.25)
    ledger.save()
    assert SpendLedger(tmp_path, 1.0, resume=True).budget.spent_usd == 0.25
    assert SpendLedger(tmp_path, 1.0, resume=False).budget.spent_usd == 0.0
    (tmp_path / "spend.json").write_text("{not json")
    with pytest.raises(UserError, match="spend.json"):
        SpendLedger(tmp_path, 1.0, resume=True)


def test_cli_max_cost_and_seed_reach_the_settings(monkeypatch, tmp_path):
    from skillspark.cli import app
    from skillspark.explore import loop

    seen: list[tuple[list[str], ExploreSettings]] = []

    async def fake_explore(task_dirs, settings, on_progress=None):
        seen.append(([d.name for d in task_dirs], settings))
        return []

    monkeypatch.setattr(loop, "explore_tasks", fake_explore)
    tasks = Path(__file__).resolve().parents[2] / "examples" / "tasks"
    args = ["explore", str(tasks), "--output", str(tmp_path)]
    for _ in range(2):
        assert CliRunner().invoke(app, [*args, "--shuffle", "--seed", "7", "--max-cost", "0.5"]).exit_code == 0
    assert CliRunner().invoke(app, [*args, "--shuffle", "--seed", "8"]).exit_code == 0
    shuffled = CliRunner().invoke(app, [*args, "--shuffle"])
    assert shuffled.exit_code == 0
    (order7, s7), (again7, _), (order8, s8), (_, s_random) = seen
    assert order7 == again7 and order7 != order8 and sorted(order7) == sorted(order8)  # same seed, same order
    assert (s7.shuffle_seed, s7.max_cost_usd, s8.max_cost_usd) == (7, 0.5, None)
    assert s_random.shuffle_seed is not None and f"--seed {s_random.shuffle_seed}" in shuffled.output

    refused = CliRunner().invoke(app, [*args, "--seed", "7"])  # a UserError: `skillspark` prints it and exits 2
    assert isinstance(refused.exception, UserError) and "add --shuffle" in str(refused.exception) and len(seen) == 4
