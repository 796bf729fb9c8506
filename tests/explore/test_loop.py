"""The SPARK loop end to end against the scripted OpenAI endpoint (summarizer and distiller over HTTP).

The attempts come from a scripted `AttemptRunner` so the PDI path is deterministic; the memos are
crafted so the proxy's exec falls while plan and oss rise: step 1 triggers soft, step 2 strong.
"""

import asyncio
import json
from pathlib import Path

import pytest

from skillspark.core.skillspec import check_skill_text
from skillspark.explore.loop import TaskExplorer
from skillspark.explore.settings import ExploreSettings
from skillspark.explore.runner import AttemptOutcome
from skillspark.llm.client import LLMClient

FAILED = "FAILED tests/test_outputs.py::test_total - AssertionError"
PASSED_CTRF = {"results": {"tests": [{"name": "test_outputs.py::test_total", "status": "passed"}]}}


def memo(n, facts, strategy):
    return (f"## Exploration Memo ({n} failed attempts)\n\n### Attempts Log\n- #{n}: wrote solve.py, wrong total\n\n"
            f"### Commands From Last Attempt\npython3 solve.py\n\n### Verified Facts\n{facts}\n\n"
            f"### Current Error Pattern\ntotal is wrong\n\n### Next Strategy\n{strategy}\n")


MEMOS = [
    memo(1, "- python3 solve.py", "try one two three"),
    memo(2, "- python3 solve.py alpha beta", "try one two four"),
    memo(3, "- python3 solve.py alpha beta gamma delta", "try one two four"),
]
SKILL = ("---\nname: sum-task\ndescription: Sum numbers from a CSV. Use when a task asks for a column total.\n---\n"
         "# Sum a CSV column\n1. Write solve.py that reads the file and prints the total (e.g. 1234.5).\n"
         "2. Check test_total passes.\n")


class ScriptedRunner:
    """Fails until `pass_at`, then passes; records the extra prompt of every attempt."""

    def __init__(self, pass_at=99, infra_at=(), hang_at=None):
        self.pass_at, self.infra_at, self.hang_at = pass_at, set(infra_at), hang_at
        self.prompts: dict[int, str] = {}

    async def run(self, task_dir, *, attempt, extra_prompt, jobs_dir):
        self.prompts[attempt] = extra_prompt
        if attempt == self.hang_at:
            await asyncio.sleep(3600)
        if attempt in self.infra_at:
            return AttemptOutcome(status="infra_error", exception_message="environment build failed")
        if attempt >= self.pass_at:
            return AttemptOutcome(reward=1.0, ctrf=PASSED_CTRF, commands=["cat data.csv", "python3 solve.py"],
                                  agent_output="total=1234.5")
        return AttemptOutcome(reward=0.0, verifier_stdout=FAILED, commands=["python3 solve.py"])


@pytest.fixture
def task_dir(tmp_path):
    task = tmp_path / "sum-task"
    (task / "tests").mkdir(parents=True)
    (task / "tests" / "test_outputs.py").write_text(
        "EXPECTED_TOTAL = 1234.5\n\ndef test_total():\n    assert read_total('/app/out.txt') == EXPECTED_TOTAL\n")
    (task / "environment").mkdir()
    (task / "environment" / "Dockerfile").write_text("FROM python:3.12-slim\nRUN pip install pandas\nWORKDIR /app\n")
    return task


def make(task_dir, server, runner, tmp_path, **kw):
    settings = ExploreSettings(model=server.model, api_base=server.base_url, output=tmp_path / "out",
                               max_retries=kw.pop("max_retries", 4), **kw)
    client = LLMClient(server.model, api_base=server.base_url, max_retries=0)
    return TaskExplorer(task_dir, "sum-task", "Sum the 'amount' column of /app/data.csv into /app/out.txt.",
                        settings, runner, client, client)


def records(root: Path):
    return [json.loads(line) for line in (root / "trajectory.jsonl").read_text().splitlines()]


async def test_solved_at_attempt_3_with_soft_then_strong(task_dir, scripted_llm, tmp_path):
    for text in MEMOS:
        scripted_llm.push(text)
    scripted_llm.push(SKILL)
    runner = ScriptedRunner(pass_at=3)
    summary = await make(task_dir, scripted_llm, runner, tmp_path).run()

    assert summary.success and summary.state == "solved"
    assert summary.status_trajectory == ["FAIL", "FAIL", "FAIL", "PASS"]
    assert summary.interventions == [None, None, "soft", "strong"]
    root = tmp_path / "out" / "sum-task"
    logs = records(root)
    assert [r["type"] for r in logs] == ["execution_result", "pdi_snapshot", "reflect_call"] * 3 + [
        "execution_result", "skill_gen_call", "task_summary"]
    snaps = [r for r in logs if r["type"] == "pdi_snapshot"]
    assert [s["level"] for s in snaps] == [None, "soft", "strong"]
    assert snaps[1]["raw_pdi"] == -3.0 and snaps[1]["weighted_pdi"] == -1.5  # z = ±1 with two values
    # the agent sees the blocks, never the metrics; strong withholds Next Strategy
    assert "Step back" in runner.prompts[2] and "### Next Strategy" in runner.prompts[2]
    assert "Change course" in runner.prompts[3] and "### Next Strategy" not in runner.prompts[3]
    for prompt in runner.prompts.values():
        assert not any(w in prompt.lower() for w in ("pdi", "proxy", "weighted", "z-score"))
        assert "1234.5" not in prompt  # redacted expected value
    assert "Attempt 4 of 4" in runner.prompts[3]
    # the redacted verifier file comes with retries only
    assert "What the verifier checks" not in runner.prompts[0]
    assert all("What the verifier checks" in runner.prompts[k] for k in (1, 2, 3))
    # every memo version kept; state file consistent
    assert [p.name for p in sorted((root / "memos").iterdir())] == ["memo_v1.md", "memo_v2.md", "memo_v3.md"]
    state = json.loads((root / "attempts.json").read_text())
    assert state["state"] == "solved" and len(state["pdi"]["history"]) == 3
    # the skill is valid and free of the instance constant and the test name
    skill = (root / "SKILL.md").read_text()
    assert check_skill_text(skill, "sum-task") == []
    assert "1234.5" not in skill and "test_total" not in skill
    distill_prompt = scripted_llm.requests[-1].messages[1]["content"]  # the evidence; a re-ask may follow it
    for block in ("Task Pattern", "Execution Chain", "Verification", "Lessons", "Environment", "Raw Support Tail"):
        assert f"## {block}" in distill_prompt
    assert "[run] python3 solve.py" in distill_prompt and "cat data.csv" not in distill_prompt
    assert "python:3.12-slim" in distill_prompt and "pandas" in distill_prompt


async def test_failing_summarizer_keeps_memo_and_records_failure(task_dir, scripted_llm, tmp_path):
    scripted_llm.push(MEMOS[0])
    scripted_llm.push("[LLM ERROR] 502 Bad Gateway")           # malformed -> asked again
    scripted_llm.push(status=400, error="bad gateway upstream")  # call fails -> asked again
    scripted_llm.push("still not a memo")                        # third try: give up, keep memo
    runner = ScriptedRunner()
    summary = await make(task_dir, scripted_llm, runner, tmp_path, max_retries=2, memo_tries=3).run()

    assert summary.state == "exhausted" and summary.total_attempts == 2
    root = tmp_path / "out" / "sum-task"
    reflects = [r for r in records(root) if r["type"] == "reflect_call"]
    assert reflects[0]["ok"] and not reflects[1]["ok"] and reflects[1]["tries"] == 3
    assert reflects[1]["memo_after"] == MEMOS[0] == reflects[1]["memo_before"]
    assert reflects[1]["failure"] == "summarizer reply lacked the memo sections"
    state = json.loads((root / "attempts.json").read_text())
    assert state["exploration_memo"] == MEMOS[0] and "ERROR" not in state["exploration_memo"]
    assert len(state["memo_history"]) == 1 and len(state["pdi"]["history"]) == 1  # no snapshot without a rewrite


async def test_two_infra_errors_stop_the_task_without_reflecting(task_dir, scripted_llm, tmp_path):
    runner = ScriptedRunner(infra_at=(0, 1))
    summary = await make(task_dir, scripted_llm, runner, tmp_path).run()
    assert summary.state == "infra_stopped" and summary.status_trajectory == ["INFRA_ERROR", "INFRA_ERROR"]
    assert "2 infrastructure failures" in summary.reason and scripted_llm.requests == []


async def test_cancel_then_resume_neither_repeats_nor_loses(task_dir, scripted_llm, tmp_path):
    for text in MEMOS[:2]:
        scripted_llm.push(text)
    runner = ScriptedRunner(hang_at=2)
    job = asyncio.create_task(make(task_dir, scripted_llm, runner, tmp_path).run())
    while 2 not in runner.prompts:
        await asyncio.sleep(0.01)
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    root = tmp_path / "out" / "sum-task"
    state = json.loads((root / "attempts.json").read_text())
    assert state["state"] == "cancelled" and [a["attempt"] for a in state["attempts"]] == [0, 1]

    scripted_llm.push(MEMOS[2])
    scripted_llm.push(SKILL)
    resumed = ScriptedRunner(pass_at=3)
    summary = await make(task_dir, scripted_llm, resumed, tmp_path, resume=True).run()
    assert sorted(resumed.prompts) == [2, 3]  # attempts 0 and 1 were not run again
    assert summary.status_trajectory == ["FAIL", "FAIL", "FAIL", "PASS"]
    assert summary.interventions == [None, None, "soft", "strong"]  # proxy state rebuilt by replay
    logs = records(root)
    assert [r["attempt"] for r in logs if r["type"] == "execution_result"] == [0, 1, 2, 3]
    assert [r["type"] for r in logs].count("task_summary") == 1
