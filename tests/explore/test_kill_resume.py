"""A real `kill -9` of `skillspark explore`, then `--resume`: the crash contract of issue 4.

The explore CLI runs as a child process with the real bash agent, Harbor and the bwrap sandbox; every
model call (agent, summarizer, distiller) goes to the scripted server in this process, which outlives
the child. The server holds the agent's first step of attempt 2 until the test has SIGKILLed the
child, so the kill always lands while an agent step is in flight and one attempt is committed.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from skillspark.agents.prompts import DEMONSTRATION
from skillspark.core.skillspec import check_skill_text
from skillspark.explore.records import AttemptsFile, parse_record
from tests.fakes.scripted_openai import Reply, ScriptedRequest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

SKILLSPARK = Path(sys.executable).with_name("skillspark")
ATTEMPT = re.compile(r"## Attempt (\d+) of (\d+)")
SKILL = ("---\nname: greet\ndescription: Write a word to a file. Use when a task asks for a file with given text.\n"
         "---\n# Write a word to a file\n1. Write the word with echo and a redirect.\n2. cat the file to check.\n")


def memo(n: int) -> str:
    return (f"## Exploration Memo ({n} failed attempts)\n\n### Attempts Log\n- #{n}: wrote the wrong word\n\n"
            "### Commands From Last Attempt\necho hi > /app/greeting.txt\n\n### Verified Facts\n"
            f"- /app is writable (seen in attempt {n})\n\n### Current Error Pattern\nthe file holds the wrong word\n\n"
            "### Next Strategy\nread the instruction again and write exactly the word it asks for\n")


def make_task(root: Path) -> Path:
    """The smallest verified task: write `hello` to /app/greeting.txt (shell verifier, no pytest needed)."""
    task = root / "greet"
    for sub in ("environment", "tests", "solution"):
        (task / sub).mkdir(parents=True)
    (task / "instruction.md").write_text("Create /app/greeting.txt containing the word hello.\n")
    (task / "task.toml").write_text('schema_version = "1.4"\n[task]\nname = "skillspark/greet"\n'
                                    "[verifier]\ntimeout_sec = 60.0\n[agent]\ntimeout_sec = 120.0\n")
    (task / "environment" / "Dockerfile").write_text("FROM python:3.11-slim-bookworm\nWORKDIR /app\n")
    (task / "solution" / "solve.sh").write_text("#!/bin/bash\necho hello > /app/greeting.txt\n")
    (task / "tests" / "test.sh").write_text(
        '#!/bin/bash\nmkdir -p /logs/verifier\nif [ "$(cat /app/greeting.txt 2>/dev/null)" = hello ]; then\n'
        "  echo 1 > /logs/verifier/reward.txt\nelse\n  echo 'greeting.txt does not hold hello'\n"
        "  echo 0 > /logs/verifier/reward.txt\nfi\n")
    for script in ("tests/test.sh", "solution/solve.sh"):
        (task / script).chmod(0o755)
    return task


class Script:
    """Answers by role (read from the system prompt); attempts 0 and 1 write the wrong word, 2 the right one."""

    def __init__(self) -> None:
        self.hold = threading.Event()     # set: the agent's step of attempt 1 is waiting in the server
        self.release = threading.Event()  # set by the test once the child is dead
        self.agent_starts: list[int] = []  # attempt index of every first agent step served
        self.memos = 0

    def __call__(self, request: ScriptedRequest) -> Reply:
        system = str(request.messages[0].get("content", "")) if request.messages else ""
        if system.startswith("You keep the exploration memo"):
            self.memos += 1
            return Reply(text=memo(self.memos))
        if system.startswith("You turn evidence"):
            return Reply(text=SKILL)
        turns = request.messages[1 + len(DEMONSTRATION) :]  # the run's own turns: after system + demonstration
        found = ATTEMPT.search(str(turns[0].get("content", "")))
        attempt = int(found.group(1)) - 1 if found else 0
        if sum(m.get("role") == "assistant" for m in turns):
            return Reply(text="Done.\n```bash\nsubmit\n```")
        self.agent_starts.append(attempt)
        if attempt == 1 and not self.release.is_set():
            self.hold.set()
            self.release.wait(300)
        word = "hello" if attempt == 2 else "hi"
        return Reply(text=f"Write it.\n```bash\necho {word} > /app/greeting.txt\n```")


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (read from /proc before the kill: orphans get a new parent)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def explore(task: Path, out: Path, server, *extra: str) -> subprocess.Popen:
    argv = [str(SKILLSPARK), "explore", str(task), "--model", server.model, "--api-base", server.base_url,
            "--max-attempts", "3", "--output", str(out), "--llm-retries", "0", *extra]
    with open(out.parent / f"explore{len(extra)}.log", "w") as log:  # the child keeps its own copy of the fd
        return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def test_sigkill_mid_attempt_then_resume_neither_repeats_nor_loses(scripted_llm, tmp_path):
    script = Script()
    scripted_llm.responder = script
    task, out = make_task(tmp_path / "tasks"), tmp_path / "out"
    root = out / "greet"

    child = explore(task, out, scripted_llm)
    try:
        assert script.hold.wait(300), f"the agent never reached attempt 2 (exit code {child.poll()})"
        before = AttemptsFile.model_validate_json((root / "attempts.json").read_text())
        assert [a.attempt for a in before.attempts] == [0] and before.state == "running"
        memo_v1 = (root / "memos" / "memo_v1.md").read_text()
        tree = descendants(child.pid)
        assert tree, "the sandbox of the attempt in flight should be running below the child"
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    finally:
        script.release.set()
        if child.poll() is None:
            child.kill()
    deadline = time.monotonic() + 15
    while any(alive(p) for p in tree) and time.monotonic() < deadline:
        time.sleep(0.2)
    leftovers = {p: Path(f"/proc/{p}/cmdline").read_bytes()[:200] for p in tree if alive(p)}
    assert not leftovers, f"processes outlived the killed explore run: {leftovers}"

    resumed = explore(task, out, scripted_llm, "--resume")
    assert resumed.wait(300) == 0, (out.parent / "explore1.log").read_text()[-3000:]

    state = AttemptsFile.model_validate_json((root / "attempts.json").read_text())
    assert state.state == "solved"
    assert [a.attempt for a in state.attempts] == [0, 1, 2]
    assert [a.status for a in state.attempts] == ["FAIL", "FAIL", "PASS"]
    assert script.agent_starts == [0, 1, 1, 2]  # attempt 0 never ran again; only the one in flight did
    # memo versions kept: v1 untouched by the resumed run, v2 written by it
    assert state.memo_history[0] == memo_v1 == (root / "memos" / "memo_v1.md").read_text()
    assert sorted(p.name for p in (root / "memos").iterdir()) == ["memo_v1.md", "memo_v2.md"]
    assert [a.memo_version for a in state.attempts] == [1, 2, None]
    # the log reads like an unbroken run: every line parses, one record of each kind per attempt
    logs = [parse_record(json.loads(line)) for line in (root / "trajectory.jsonl").read_text().splitlines()]

    def by_type(kind: str) -> list[int]:
        return [r.attempt for r in logs if r.type == kind]

    assert by_type("execution_result") == [0, 1, 2]
    assert by_type("reflect_call") == [0, 1] and by_type("pdi_snapshot") == [0, 1]
    assert by_type("skill_gen_call") == [2]
    assert [r.type for r in logs].count("task_summary") == 1 and logs[-1].type == "task_summary"
    assert logs[-1].reward_trajectory == [0.0, 0.0, 1.0]
    rewards = [r.reward for r in logs if r.type == "execution_result"]
    assert rewards == [a.reward for a in state.attempts]
    assert check_skill_text((root / "SKILL.md").read_text(), "greet") == []


def test_sigkill_leaves_no_embedded_model_server_behind(tmp_path):
    """The run starts its own llama.cpp server (fresh cache dir: none to reuse); SIGKILL takes it along."""
    cache = tmp_path / "cache"
    env = {**os.environ, "SKILLSPARK_CACHE_DIR": str(cache)}
    task = make_task(tmp_path / "tasks")
    argv = [str(SKILLSPARK), "explore", str(task), "--model", "local/smollm2", "--max-attempts", "1",
            "--output", str(tmp_path / "out")]
    child = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             stdin=subprocess.DEVNULL)
    state = cache / "local-model.json"
    try:
        deadline = time.monotonic() + 180
        while not state.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert state.exists(), f"explore never started the embedded server (exit code {child.poll()})"
        server = json.loads(state.read_text())["pid"]
        tree = descendants(child.pid)
        assert server in tree
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
    deadline = time.monotonic() + 15
    while any(alive(p) for p in tree) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [p for p in tree if alive(p)], "the embedded server or a sandbox outlived the killed run"
