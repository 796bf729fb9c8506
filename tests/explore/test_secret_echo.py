"""A model that echoes its API key: `skillspark run` and `skillspark explore` persist and print none of it.

End to end (issue 7, item 4): both CLIs run in their own processes against the scripted endpoint in echo
mode, with real Harbor trials in the local sandbox. Every reply of every role (agent, memo summarizer,
distiller) carries the key twice: placed in the text (the agent's even in the command it runs) and as the
echoed Authorization header. Afterwards no file under the run's folders and no line of CLI output holds
the key, while [REDACTED] shows the echoes did arrive.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.agents.greet_task import make_task
from tests.fakes.scripted_openai import ScriptedOpenAIServer, ScriptedRequest

# Not key-shaped (no sk- prefix): only the variable that holds it and the client's own record of the key
# it sent can tell the redactor what to hide.
KEY = "test-SECRET123-7f3e9b21c4d5aa"
REDACTED = "[REDACTED]"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def _memo(key: str) -> str:
    return ("## Exploration Memo (1 failed attempts)\n\n### Attempts Log\n- #1: wrote the key, not hello\n\n"
            f"### Commands From Last Attempt\necho '{key}' > /app/greeting.txt\n\n### Verified Facts\n"
            f"- the API key is {key}\n\n### Current Error Pattern\ngreeting.txt does not hold hello\n\n"
            f"### Next Strategy\nwrite hello to /app/greeting.txt (key {key})\n")


def _skill(key: str) -> str:
    return ("---\nname: greet\ndescription: Write a greeting file. Use when a task asks for /app/greeting.txt.\n"
            f"---\n# Greeting\n1. Run `echo hello > /app/greeting.txt`.\n2. Authenticate with {key}.\n")


def _role(request: ScriptedRequest) -> str:
    system = str(request.messages[0].get("content", "")) if request.messages else ""
    if system.startswith("You keep the exploration memo"):
        return "summarizer"
    return "distiller" if system.startswith("You turn evidence") else "agent"


def _respond(request: ScriptedRequest) -> str:
    """Every role answers in form and repeats the key it was sent."""
    key = request.authorization.removeprefix("Bearer ")
    role = _role(request)
    if role != "agent":
        return _memo(key) if role == "summarizer" else _skill(key)
    if any("Attempt 2 of" in str(m.get("content", "")) for m in request.messages):
        return f"Now the right word (my key is {key}).\n```bash\necho hello > /app/greeting.txt\nsubmit\n```"
    return f"My key is {key}.\n```bash\necho '{key}' > /app/greeting.txt && cat /app/greeting.txt\nsubmit\n```"


def _cli(args: list[str], server: ScriptedOpenAIServer, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": server.base_url,
           "LITELLM_LOCAL_MODEL_COST_MAP": "True", "HARBOR_TELEMETRY": "0"}
    command = [sys.executable, "-c", "from skillspark.cli import main; main()", *args]
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=800)


def _files_holding(root: Path, needle: bytes) -> list[str]:
    """Regular files under `root` (links not followed) whose bytes contain `needle`."""
    hits = []
    for folder, _dirs, names in os.walk(root):
        for name in names:
            path = Path(folder, name)
            if path.is_file() and not path.is_symlink() and needle in path.read_bytes():
                hits.append(str(path.relative_to(root)))
    return hits


def test_an_echoed_key_is_never_persisted_or_shown(scripted_llm: ScriptedOpenAIServer, tmp_path: Path) -> None:
    scripted_llm.echo_authorization = True
    scripted_llm.responder = _respond
    task = make_task(tmp_path / "tasks")
    model = "--model=openai/scripted"

    run = _cli(["run", str(task), model, "--output", str(tmp_path / "jobs"), "--max-steps", "2"], scripted_llm, tmp_path)
    explore = _cli(["explore", str(task), model, "--max-attempts", "2", "--output", str(tmp_path / "out")],
                   scripted_llm, tmp_path)

    assert run.returncode == 0, run.stderr[-2000:]
    assert explore.returncode == 0, explore.stderr[-2000:]
    assert scripted_llm.requests and all(r.authorization == f"Bearer {KEY}" for r in scripted_llm.requests)
    assert {_role(r) for r in scripted_llm.requests} == {"agent", "summarizer", "distiller"}  # all three echoed

    for stream in (run.stdout, run.stderr, explore.stdout, explore.stderr):
        assert KEY not in stream
    assert _files_holding(tmp_path, KEY.encode()) == []
    # ... and the echoes did reach every kind of output, redacted
    out = tmp_path / "out" / "greet"
    records = [json.loads(line) for line in (out / "trajectory.jsonl").read_text().splitlines()]
    assert records[-1]["success"] is True
    reflect = next(r for r in records if r["type"] == "reflect_call")
    assert f"the API key is {REDACTED}" in reflect["memo_after"]
    assert f"the API key is {REDACTED}" in (out / "memos" / "memo_v1.md").read_text()
    assert REDACTED in (out / "attempts.json").read_text()
    trajectories = sorted(tmp_path.glob("**/agent/trajectory.json"))
    assert len(trajectories) == 3  # one `run` trial, two explore attempts
    for path in trajectories:
        assert f"My key is {REDACTED}" in path.read_text() or f"my key is {REDACTED}" in path.read_text()
    assert any(f"echo '{REDACTED}'" in p.read_text() for p in trajectories)  # the command itself, as run
