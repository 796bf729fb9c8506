"""The agent in real Harbor trials, in the real local sandbox, driven by the scripted model server."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from harbor.utils.trajectory_validator import TrajectoryValidator

from skillspark import config as _config  # noqa: F401  (offline litellm before anything imports it)
from skillspark.agents.prompts import DEMONSTRATION
from skillspark.harbor.atif import commands_from_trajectory
from skillspark.harbor.trials import AgentSpec, TrialOutcome, run_trial

AGENT = "skillspark.agents.bash_agent:SkillsparkAgent"
WRITE = "I will write the file.\n```bash\necho hello > /app/greeting.txt && cat /app/greeting.txt\n```"
SUBMIT = "Done.\n```bash\nsubmit\n```"

pytestmark = pytest.mark.timeout(300)


async def _trial(task: Path, server, tmp_path: Path, **kwargs) -> TrialOutcome:
    spec = AgentSpec(import_path=AGENT, model=server.model, kwargs={"api_base": server.base_url} | kwargs)
    return await run_trial(task, agent=spec, trials_dir=tmp_path / "trials")


def _trajectory(outcome: TrialOutcome) -> dict:
    import json

    assert outcome.trajectory_path is not None and outcome.trajectory_path.is_file()
    validator = TrajectoryValidator()
    assert validator.validate(outcome.trajectory_path), validator.errors
    return json.loads(outcome.trajectory_path.read_text())


async def test_scripted_model_writes_file_and_submits(greet_task, scripted_llm, tmp_path):
    scripted_llm.push(WRITE, prompt_tokens=120, completion_tokens=15)
    scripted_llm.push(SUBMIT, prompt_tokens=160, completion_tokens=4)
    outcome = await _trial(greet_task, scripted_llm, tmp_path)

    assert outcome.status == "ok" and outcome.reward == 1.0
    assert (outcome.n_input_tokens, outcome.n_output_tokens) == (280, 19)
    data = _trajectory(outcome)
    agent_steps = [s for s in data["steps"] if s["source"] == "agent"]
    assert [s["metrics"]["prompt_tokens"] for s in agent_steps] == [120, 160]
    assert [s["metrics"]["completion_tokens"] for s in agent_steps] == [15, 4]
    assert data["final_metrics"]["total_prompt_tokens"] == 280
    assert agent_steps[0]["observation"]["results"][0]["content"] == "exit code: 0\noutput:\nhello\n"
    assert data["extra"]["exit_status"] == "submitted"
    assert commands_from_trajectory(outcome.trajectory_path) == [
        "echo hello > /app/greeting.txt && cat /app/greeting.txt"
    ]
    # the model saw the system prompt, the demonstration turns, the task, then its own reply and the observation
    second = scripted_llm.requests[1].messages
    demo = [{"role": role, "content": text} for role, text in DEMONSTRATION]
    assert second[1 : 1 + len(demo)] == demo
    assert "Create the file /app/greeting.txt" in second[1 + len(demo)]["content"]
    assert second[-1]["content"].startswith("exit code: 0")
    assert data["extra"]["demonstration_turns"] == len(demo)
    assert not any("/tmp/name.txt" in (s.get("message") or "") for s in data["steps"])  # not steps of the run


async def test_demonstration_can_be_turned_off(greet_task, scripted_llm, tmp_path):
    scripted_llm.push(WRITE)
    scripted_llm.push(SUBMIT)
    outcome = await _trial(greet_task, scripted_llm, tmp_path, demonstration=False)

    assert outcome.reward == 1.0
    first = scripted_llm.requests[0].messages
    assert [m["role"] for m in first] == ["system", "user"]
    assert "Create the file /app/greeting.txt" in first[1]["content"]


async def test_format_error_is_answered_then_recovered(greet_task, scripted_llm, tmp_path):
    scripted_llm.push("I think I should create the file now.")
    scripted_llm.push("")  # an empty completion is a recorded outcome, answered the same way
    scripted_llm.push(WRITE)
    scripted_llm.push(SUBMIT)
    outcome = await _trial(greet_task, scripted_llm, tmp_path)

    assert outcome.reward == 1.0
    correction = scripted_llm.requests[1].messages[-1]
    assert correction["role"] == "user" and correction["content"].startswith("Format error: no ```bash block")
    assert scripted_llm.requests[2].messages[-1]["content"].startswith("Format error: empty completion.")
    steps = [s for s in _trajectory(outcome)["steps"] if s["source"] == "agent"]
    assert steps[0]["extra"] == {"format_error": True} and "tool_calls" not in steps[0]
    assert steps[1]["extra"] == {"format_error": True, "model_error": "empty completion"}


async def test_repeated_format_errors_end_the_run(greet_task, scripted_llm, tmp_path):
    scripted_llm.responder = lambda request: "no code here"
    outcome = await _trial(greet_task, scripted_llm, tmp_path, max_format_errors=2)

    assert outcome.status == "ok" and outcome.reward == 0.0
    assert len(scripted_llm.requests) == 3
    assert _trajectory(outcome)["extra"]["exit_status"] == "format_error_limit"


async def test_step_limit_stops_the_loop(greet_task, scripted_llm, tmp_path):
    scripted_llm.responder = lambda request: "Look around.\n```bash\nls /app\n```"
    outcome = await _trial(greet_task, scripted_llm, tmp_path, max_steps=3)

    assert outcome.reward == 0.0
    assert len(scripted_llm.requests) == 3
    data = _trajectory(outcome)
    assert data["extra"]["exit_status"] == "step_limit"
    assert len(commands_from_trajectory(outcome.trajectory_path)) == 3


async def test_command_timeout_is_reported_and_the_run_goes_on(greet_task, scripted_llm, tmp_path):
    scripted_llm.push("Wait a bit.\n```bash\necho started; sleep 30\n```")
    scripted_llm.push(WRITE)
    scripted_llm.push(SUBMIT)
    started = time.monotonic()
    outcome = await _trial(greet_task, scripted_llm, tmp_path, command_timeout_s=2)

    assert time.monotonic() - started < 25
    assert outcome.reward == 1.0
    observation = scripted_llm.requests[1].messages[-1]["content"]
    assert observation.startswith("The command timed out after 2 seconds")
    assert "started" in observation


async def test_model_unavailable_ends_cleanly_with_reason(greet_task, scripted_llm, tmp_path):
    scripted_llm.push(status=400, error="bad request")
    outcome = await _trial(greet_task, scripted_llm, tmp_path)

    assert outcome.status == "ok" and outcome.reward == 0.0
    extra = _trajectory(outcome)["extra"]
    assert extra["exit_status"] == "model_unavailable"
    assert "LLMUnavailable" in extra["reason"] and "bad request" in extra["reason"]


async def test_rejected_key_is_the_trials_exception(greet_task, scripted_llm, tmp_path):
    """Not a clean end like an unavailable model: `run` and `explore` read the type name and stop."""
    scripted_llm.push(status=401, error="bad key")
    outcome = await _trial(greet_task, scripted_llm, tmp_path)

    assert outcome.exception_type == "AuthenticationFailed" and outcome.reward is None  # nothing verified
    assert outcome.exception_message.startswith("authentication failed for model openai/scripted")
    assert len(scripted_llm.requests) == 1 and _trajectory(outcome)["extra"]["exit_status"] == "error"


async def test_skills_are_injected_where_agents_look(greet_task, scripted_llm, tmp_path):
    skills = tmp_path / "my-skills"
    (skills / "greeting-files").mkdir(parents=True)
    (skills / "greeting-files" / "SKILL.md").write_text("---\nname: greeting-files\n---\nUse echo.\n")
    paths = ["/skills", "/root/.claude/skills", "/root/.codex/skills", "/root/.agents/skills"]
    cat = " ".join(f"{p}/greeting-files/SKILL.md" for p in paths)
    scripted_llm.push(f"Read the skill.\n```bash\ncat {cat} | grep -c 'Use echo.'\n```")
    scripted_llm.push(SUBMIT)
    outcome = await _trial(greet_task, scripted_llm, tmp_path, skills_dir=str(skills))

    assert outcome.status == "ok"
    task_message = scripted_llm.requests[0].messages[1 + len(DEMONSTRATION)]["content"]
    assert "in /skills" in task_message and "/root/.claude/skills" in task_message
    assert scripted_llm.requests[1].messages[-1]["content"] == "exit code: 0\noutput:\n4\n"
