"""`skillspark explore --max-cost` end to end: the real bash agent in a Harbor trial in the local sandbox
runs out of budget mid-task, the run ends with one line and exit code 3, and `--resume` with a higher
limit finishes the task.

Every model call goes to the scripted endpoint in this process, priced as gpt-4o-mini (1000 prompt +
500 completion tokens = $0.00045 per reply). With --max-cost 0.001 the agent, handed the whole $0.001,
makes three calls ($0.00135: the third starts below the limit) and its fourth is refused inside the trial.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from skillspark.agents.prompts import DEMONSTRATION, system_prompt
from skillspark.explore.records import AttemptsFile
from tests.explore.test_budget import by_role, make_task
from tests.fakes.scripted_openai import Reply, ScriptedRequest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

SKILLSPARK = Path(sys.executable).with_name("skillspark")
AGENT_SYSTEM = system_prompt(60.0)[:60]
CALL = {"prompt_tokens": 1000, "completion_tokens": 500}


class Script:
    """The agent writes the wrong word forever until `solve` is set; then the right word, then submits."""

    def __init__(self) -> None:
        self.solve = False
        self.agent_calls = 0
        self.other_calls = 0

    def __call__(self, request: ScriptedRequest) -> Reply:
        system = str(request.messages[0].get("content", "")) if request.messages else ""
        if not system.startswith(AGENT_SYSTEM):
            self.other_calls += 1
            return by_role(request)
        self.agent_calls += 1
        turns = request.messages[1 + len(DEMONSTRATION):]  # the run's own turns: after system + demonstration
        if self.solve and any(m.get("role") == "assistant" for m in turns):
            return Reply(text="Done.\n```bash\nsubmit\n```", **CALL)
        word = "hello" if self.solve else "hi"
        return Reply(text=f"Write it.\n```bash\necho {word} > /app/out.txt\n```", **CALL)


def explore(task: Path, out: Path, server, *extra: str) -> subprocess.CompletedProcess[str]:
    argv = [str(SKILLSPARK), "explore", str(task), "--model", "openai/gpt-4o-mini", "--api-base", server.base_url,
            "--max-retries", "3", "--output", str(out), "--llm-retries", "0", *extra]
    env = {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "HARBOR_TELEMETRY": "0"}
    return subprocess.run(argv, capture_output=True, text=True, timeout=500, env=os.environ | env)


def test_agent_runs_out_mid_task_then_resume_with_a_higher_limit_finishes(scripted_llm, tmp_path):
    script = Script()
    scripted_llm.responder = script
    task, out = make_task(tmp_path / "tasks", "greet"), tmp_path / "out"

    stopped = explore(task, out, scripted_llm, "--max-cost", "0.001")
    assert stopped.returncode == 3, stopped.stdout[-3000:] + stopped.stderr[-3000:]
    last = stopped.stderr.strip().splitlines()[-1]
    assert last.startswith("budget: $0.0014 of --max-cost $0.0010 spent; 1 task(s) stopped (greet)"), last
    assert "--resume" in last and "Traceback" not in stopped.stderr
    assert (script.agent_calls, script.other_calls) == (3, 0)  # the 4th agent call and the memo never left
    state = AttemptsFile.model_validate_json((out / "greet" / "attempts.json").read_text())
    assert state.state == "budget_exhausted" and state.attempts == []
    assert "during attempt 1, which is not kept" in state.reason
    records = [json.loads(line) for line in (out / "greet" / "trajectory.jsonl").read_text().splitlines()]
    assert [r["type"] for r in records] == ["execution_result", "task_summary"]
    assert records[-1]["state"] == "budget_exhausted"
    trajectory = json.loads(next((out / "greet" / "jobs").rglob("trajectory.json")).read_text())
    assert "BudgetExceeded" in json.dumps(trajectory.get("extra", {}))  # the agent stopped itself, cleanly

    script.solve = True
    resumed = explore(task, out, scripted_llm, "--max-cost", "0.01", "--resume")
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    state = AttemptsFile.model_validate_json((out / "greet" / "attempts.json").read_text())
    assert state.state == "solved" and [a.status for a in state.attempts] == ["PASS"]
    assert (out / "greet" / "SKILL.md").exists()
    spent = json.loads((out / "spend.json").read_text())["spent_usd"]
    assert spent >= 0.00135 + 2 * 0.00045 + 0.00045 - 1e-12  # earlier spend + the agent's two calls + the skill
