"""`model serve` keeps serving through a completion longer than its health check's timeout (issue 19, finding 5).

The stand-in server (tests/llm/local_server_stub.py) holds one lock for a generation and for /v1/models,
as llama.cpp's server does, so /v1/models stays silent for the whole 3 s completion; the old serve loop
read that silence as "the server stopped" after 2 s and shut the server down.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from skillspark.llm.local_server import ServerState, free_port, probe, running_server, state_path
from tests.llm.test_local_server import start_serve

REPO = Path(__file__).resolve().parents[2]
SERVE = """
import sys
from skillspark.llm import local_server
local_server.server_command = lambda model, port: [sys.executable, "-m", "tests.llm.local_server_stub",
                                                   "--port", str(port), "--completion-delay", "{delay}"]
from skillspark.llm.commands import app
app(["serve"])
"""


@pytest.fixture(autouse=True)
def private_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("SKILLSPARK_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _complete(base_url: str) -> dict:
    body = json.dumps({"model": "smollm2", "messages": [{"role": "user", "content": "hi"}]}).encode()
    request = urllib.request.Request(f"{base_url}/chat/completions", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def test_serve_survives_a_completion_longer_than_the_health_timeout(private_cache: Path) -> None:
    serve, state = start_serve(private_cache, SERVE.format(delay=3.0))
    try:
        started = time.monotonic()
        answer = _complete(state.base_url)  # 3 s during which /v1/models does not answer
        assert time.monotonic() - started >= 2.9
        assert answer["choices"][0]["message"]["content"] == "stub"
        assert serve.poll() is None, "model serve exited during a long completion"
        assert running_server() == state and probe(state.port) is True  # same server, answering again
        serve.send_signal(signal.SIGINT)
        assert serve.wait(timeout=30) == 0
        assert "the server stopped" not in serve.stdout.read()
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()


def test_a_busy_server_counts_as_running_and_a_dead_one_does_not(private_cache: Path) -> None:
    """The reuse check sees a silent-but-connected port of a live server as running (no second server)."""
    port = free_port()
    stub = subprocess.Popen([sys.executable, "-m", "tests.llm.local_server_stub", "--port", str(port),
                             "--completion-delay", "4"], cwd=REPO)
    try:
        deadline = time.monotonic() + 20
        while probe(port, 0.5) is not True:
            assert time.monotonic() < deadline, "stub did not come up"
            time.sleep(0.1)
        private_cache.mkdir(parents=True)
        state = ServerState(port=port, pid=stub.pid, gguf="x.gguf", started_at=0.0)
        state_path().write_text(state.model_dump_json())
        worker = threading.Thread(target=_complete, args=(state.base_url,))
        worker.start()
        time.sleep(0.5)  # the completion holds the lock now
        assert probe(port, 1.0) is None  # busy: no answer in time
        assert running_server() == state
        worker.join()
    finally:
        stub.kill()
        stub.wait()
    assert running_server() is None  # the process is gone
