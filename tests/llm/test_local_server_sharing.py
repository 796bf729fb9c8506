"""Two real client processes sharing one embedded server: the first to exit leaves it to the other, the last
one out stops it, and a SIGKILLed client is noticed by the server's watchdog.

The fast tests run the real lease and watchdog code with a stand-in server module (tests/llm/
local_server_stub.py, patched in as the server command inside each client); the slow test starts the
real llama.cpp server and asks it for a completion after the client that started it has gone.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from skillspark.llm.leases import Leases, start_time
from skillspark.llm.local_server import is_healthy, leases, read_state, state_path, watched_command

REPO = Path(__file__).resolve().parents[2]
CLIENT = """
import json, sys
from skillspark.llm import local_server
if {stub!r}:
    local_server.server_command = lambda model, port: [sys.executable, "-m", "tests.llm.local_server_stub",
                                                       "--port", str(port)]
with local_server.local_model_endpoint_sync() as url:
    print(json.dumps({{"url": url, "server": local_server.read_state().pid}}), flush=True)
    sys.stdin.readline()  # hold the server until the test says so
"""


@pytest.fixture(autouse=True)
def private_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("SKILLSPARK_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


class Client:
    """A separate Python process using the embedded server through `local_model_endpoint_sync`."""

    def __init__(self, *, stub: bool) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", CLIENT.format(stub=stub)], cwd=REPO, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=dict(os.environ))
        line = self.process.stdout.readline()
        assert line, f"client exited with {self.process.wait()} before it had a server"
        got = json.loads(line)
        self.url, self.server = got["url"], got["server"]

    def leave(self) -> None:
        self.process.stdin.write("\n")
        self.process.stdin.flush()
        assert self.process.wait(timeout=60) == 0

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()


def gone(pid: int, within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while start_time(pid) is not None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


@pytest.fixture
def clients():
    started: list[Client] = []

    def start(stub: bool = True) -> Client:
        started.append(Client(stub=stub))
        return started[-1]

    yield start
    for client in started:
        if client.process.poll() is None:
            client.kill()
    state = read_state()
    if state is not None and start_time(state.pid) is not None:  # never leave a server behind a failed test
        os.kill(state.pid, signal.SIGKILL)


def test_first_to_exit_leaves_the_server_to_the_other_and_a_killed_last_client_takes_it_along(clients):
    first = clients()
    second = clients()
    assert second.url == first.url and second.server == first.server  # reused, not a second server
    assert leases().live() == sorted([first.process.pid, second.process.pid])

    first.leave()
    assert start_time(first.server) is not None and is_healthy(port_of(first.url))  # still serving the second
    assert leases().live() == [second.process.pid]

    second.kill()  # no cleanup runs in the client: the server's watchdog sees its lease go stale
    assert gone(first.server, within_s=10), "the server outlived its last client"
    assert not state_path().exists() and leases().live() == []


def test_a_killed_first_client_does_not_take_the_server_and_the_last_one_out_stops_it(clients):
    first = clients()
    second = clients()
    first.kill()
    time.sleep(1.5)  # three watchdog rounds: a live lease remains, so the server stays
    assert is_healthy(port_of(second.url)) and leases().live() == [second.process.pid]

    second.leave()
    assert gone(first.server, within_s=1), "the last client out should stop the server itself"
    assert not state_path().exists()


def test_leases_of_dead_or_reused_pids_are_not_live(tmp_path):
    book = Leases(tmp_path / "leases")
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        book.take(sleeper.pid)
        book.take()  # this process
        (book.directory / "1").write_text("999999999999")  # pid 1 is alive, but not the process that took this lease
        assert book.live() == sorted([sleeper.pid, os.getpid()])
        assert not (book.directory / "1").exists()  # pruned
        sleeper.kill()
        sleeper.wait()
        assert book.live() == [os.getpid()]
        book.drop()
        assert book.live() == []
    finally:
        sleeper.kill()


def test_watched_command_wraps_the_llama_server_command():
    command = watched_command(Path("/m.gguf"), 4321)
    assert command[1:3] == ["-m", "skillspark.llm.watched_server"]
    assert command[3:6] == [str(leases().directory), str(state_path()), "--"]
    assert command[6:8] == ["-m", "llama_cpp.server"] and "--port" in command and "4321" in command


@pytest.mark.slow
def test_real_server_survives_its_starter_and_ends_with_its_last_user(clients):
    first = clients(stub=False)
    second = clients(stub=False)
    assert second.server == first.server
    first.leave()
    request = urllib.request.Request(
        f"{second.url}/chat/completions", method="POST", headers={"Content-Type": "application/json"},
        data=json.dumps({"model": "smollm2", "max_tokens": 8,
                         "messages": [{"role": "user", "content": "Name one color."}]}).encode())
    with urllib.request.urlopen(request, timeout=120) as response:
        answer = json.load(response)
    assert answer["choices"][0]["message"]["content"].strip()  # the real model answered after its starter left
    second.kill()
    assert gone(first.server, within_s=15), "the real server outlived its last (killed) client"
    assert not state_path().exists()
