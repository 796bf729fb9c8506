"""`kill -9` during generation, then `--resume`: no finished LLM call is asked again, the same tasks come out.

The child process generates two candidates against the scripted endpoint in this process; the endpoint
holds candidate 2's critique until the test has SIGKILLed the child, so the kill lands with candidate 1
accepted and candidate 2's blueprint answered (kept) and its critique in flight.
"""

from __future__ import annotations

import filecmp
import json
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.fakes.scripted_openai import Reply, ScriptedRequest
from tests.taskgen.generate import blueprints as bp
from tests.taskgen.generate.conftest import role

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
CHILD = Path(__file__).with_name("generate_child.py")


class HoldingScript:
    """Blueprints for both candidates; the critique of candidate 2 waits for `release`."""

    def __init__(self, hold_critique: int | None) -> None:
        self.hold_critique = hold_critique
        self.held = threading.Event()
        self.release = threading.Event()
        self.seen: list[str] = []

    def __call__(self, request: ScriptedRequest) -> Reply:
        kind = role(request)
        text = json.dumps(request.messages)
        candidate = 2 if "candidate 2 of 2" in text or "region-totals-2" in text else 1
        self.seen.append(f"{kind}-{candidate}")
        if kind == "critique":
            if candidate == self.hold_critique and not self.release.is_set():
                self.held.set()
                self.release.wait(120)
            return Reply(text='{"issues": []}')
        return Reply(text=bp.answer())


def child(server, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(CHILD), server.base_url, str(out), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def same_tree(a: Path, b: Path) -> bool:
    compared = filecmp.dircmp(a, b)
    if compared.left_only or compared.right_only or compared.diff_files or compared.funny_files:
        return False
    return all(same_tree(a / d, b / d) for d in compared.common_dirs)


def test_sigkill_then_resume_repeats_no_finished_call(scripted_llm, tmp_path):
    script = HoldingScript(hold_critique=2)
    scripted_llm.responder = script
    out = tmp_path / "out"
    first = child(scripted_llm, out)
    try:
        assert script.held.wait(60), f"never reached candidate 2's critique (exit {first.poll()}): {script.seen}"
        first.send_signal(signal.SIGKILL)
        first.wait(30)
    finally:
        script.release.set()
        if first.poll() is None:
            first.kill()
    assert first.returncode == -signal.SIGKILL
    before = list(script.seen)
    assert before == ["blueprint-1", "critique-1", "blueprint-2", "critique-2"]
    assert (out / "region-totals-1").is_dir() and not (out / "region-totals-2").exists()

    resumed = child(scripted_llm, out, "--resume")
    assert resumed.wait(120) == 0, resumed.stdout.read().decode()[-2000:]
    assert script.seen[len(before):] == ["critique-2"]  # only the call that was in flight is asked again
    runs = list((out / "_runs").iterdir())
    assert len(runs) == 1
    calls = [json.loads(line)["key"] for line in (runs[0] / "calls.jsonl").read_text().splitlines()]
    assert calls == ["c0-v0-blueprint-0", "c0-v0-critique", "c1-v0-blueprint-0", "c1-v0-critique"]

    # the same tasks an uninterrupted run accepts
    scripted_llm.responder = HoldingScript(hold_critique=None)
    reference = tmp_path / "reference"
    assert child(scripted_llm, reference).wait(120) == 0
    for name in ("region-totals-1", "region-totals-2"):
        assert same_tree(out / name, reference / name), name
