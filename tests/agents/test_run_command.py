"""`skillspark run`: the runner over Harbor trials, the no-skill baseline, the summary, and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from skillspark import config as _config  # noqa: F401  (offline litellm before anything imports it)
from skillspark.agents.runner import RunRequest, run_tasks, summarize
from skillspark.harbor.trials import TrialOutcome
from tests.fakes.scripted_openai import Reply

from .greet_task import make_task

pytestmark = pytest.mark.timeout(300)
COUNT_SKILLS = "Count skills.\n```bash\nls /skills | wc -l\n```"
SUBMIT = "Done.\n```bash\nsubmit\n```"


def _skill_task(root: Path) -> Path:
    task = make_task(root, "bundled", dockerfile_extra="COPY skills /skills\n")
    (task / "environment" / "skills" / "tip").mkdir(parents=True)
    (task / "environment" / "skills" / "tip" / "SKILL.md").write_text("---\nname: tip\n---\nhi\n")
    return task


def _skill_count_seen(server) -> str:
    """The observation the model got after COUNT_SKILLS (the request that followed it)."""
    return server.requests[1].messages[-1]["content"]


@pytest.mark.parametrize(("strip", "expected"), [(False, "output:\n1\n"), (True, "cannot access '/skills'")])
async def test_no_task_skills_strips_bundled_skills(tmp_path, scripted_llm, strip, expected):
    task = _skill_task(tmp_path / "tasks")
    scripted_llm.push(COUNT_SKILLS)
    scripted_llm.push(SUBMIT)
    request = RunRequest(tasks=[task], model=scripted_llm.model, api_base=scripted_llm.base_url, no_task_skills=strip)
    outcomes = await run_tasks(request, tmp_path / "trials")

    assert [o.status for o in outcomes] == ["ok"]
    assert expected in _skill_count_seen(scripted_llm)
    assert (task / "environment" / "skills" / "tip" / "SKILL.md").is_file()  # the original stays whole


async def test_k_trials_and_max_cost_stop(tmp_path, scripted_llm):
    task = make_task(tmp_path / "tasks")
    scripted_llm.responder = lambda request: "```bash\necho hello > /app/greeting.txt\nsubmit\n```"
    seen: list[TrialOutcome] = []
    request = RunRequest(tasks=[task], model=scripted_llm.model, api_base=scripted_llm.base_url, k=2)
    outcomes = await run_tasks(request, tmp_path / "trials", on_result=seen.append)

    assert [o.reward for o in outcomes] == [1.0, 1.0] and len(seen) == 2
    assert len({o.trial_dir for o in outcomes}) == 2
    # a spent budget starts nothing (the scripted model is unpriced, so spend comes from the limit 0)
    zero = request.model_copy(update={"max_cost_usd": 0.0})
    assert await run_tasks(zero, tmp_path / "trials2") == []


def _outcome(task: str, reward: float | None, status: str = "ok", tokens: int = 10, cost: float | None = 0.5):
    return TrialOutcome(task_name=task, trial_dir=Path("/x"), reward=reward, status=status,
                        n_input_tokens=tokens, n_output_tokens=1, cost_usd=cost, duration_s=2.0)


def test_summarize_reduces_trials_per_task():
    rows = summarize([
        _outcome("a", 1.0), _outcome("b", 0.5, cost=None), _outcome("a", 0.0), _outcome("a", None, "infra_error"),
    ])
    a, b = rows
    assert a.task == "a" and a.trials == 3 and a.rewards == [1.0, 0.0, None]
    assert a.mean_reward == pytest.approx(1 / 3) and a.n_passed == 1
    assert (a.n_input_tokens, a.n_output_tokens, a.cost_usd, a.duration_s) == (30, 3, 1.5, 6.0)
    assert b.cost_usd is None and b.mean_reward == 0.5 and b.n_passed == 0


def _cli(*args: str, cwd: Path, key: str | None = None) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("skillspark")
    keyless = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_BASE")}
    env = keyless | {"COLUMNS": "200"} | ({"OPENAI_API_KEY": key} if key else {})
    return subprocess.run([str(exe), "run", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=240)


def test_cli_runs_tasks_and_prints_the_table(tmp_path, scripted_llm):
    make_task(tmp_path / "tasks", "greet-a")
    make_task(tmp_path / "tasks", "greet-b")
    scripted_llm.responder = lambda request: "```bash\necho hello > /app/greeting.txt\nsubmit\n```"
    result = _cli(str(tmp_path / "tasks"), "--model", scripted_llm.model, "--api-base", scripted_llm.base_url,
                  "--output", str(tmp_path / "jobs"), cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "greet-a" in result.stdout and "greet-b" in result.stdout and "1/1" in result.stdout
    (summary_file,) = (tmp_path / "jobs").glob("run-*/summary.json")
    summary = json.loads(summary_file.read_text())
    assert [t["rewards"] for t in summary["tasks"]] == [[1.0], [1.0]]
    assert len(list(summary_file.parent.glob("*/agent/trajectory.json"))) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing-task"], "missing-task"),
        (["TASK", "--skills", "nowhere"], "--skills nowhere: not a directory"),
        (["TASK", "--env", "moon"], "--env 'moon' is not a known environment"),
        (["TASK"], "--model openai/x: OPENAI_API_KEY is not set"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, args, message):
    task = make_task(tmp_path / "tasks")
    result = _cli(*[str(task) if a == "TASK" else a for a in args], "--model", "openai/x", cwd=tmp_path)

    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert "trials" not in result.stdout  # refused before any progress display


def test_cli_stops_the_batch_on_a_rejected_key(tmp_path, scripted_llm):
    key = "acme-7f3e9b21c4d5-secret"  # not key-shaped, and quoted back by the endpoint
    make_task(tmp_path / "tasks", "greet-a")
    make_task(tmp_path / "tasks", "greet-b")
    scripted_llm.responder = lambda request: Reply(status=401, error=f"Incorrect API key provided: {key}")
    result = _cli(str(tmp_path / "tasks"), "--model", scripted_llm.model, "--api-base", scripted_llm.base_url,
                  "--output", str(tmp_path / "jobs"), cwd=tmp_path, key=key)

    assert result.returncode == 2, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: authentication failed for model {scripted_llm.model} at {scripted_llm.base_url}: "
                      "check OPENAI_API_KEY"]
    assert len(scripted_llm.requests) == 1  # no retry, and the second task never started
    assert key not in result.stdout + result.stderr
    written = [p for p in (tmp_path / "jobs").rglob("*") if p.is_file()]
    assert written and not [p for p in written if key.encode() in p.read_bytes()]
