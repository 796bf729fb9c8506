"""Starting, cancelling and resuming explore/eval runs from the dashboard (only with `--allow-launch`).

Why this shape: a run is `skillspark explore|eval` as its own process (an argv list, never a shell, in
its own process group, so a cancel reaches its sandboxes and nothing else), writing to a folder inside
the served directories so the dashboard shows it like any other run. Only processes started here are
ever signalled. Cancelling one task needs no signal: the explore loop honours a `cancel` file in the
task's folder between attempts, and `--resume` continues the task.

A served folder is not trusted (an author, a shared disk or a finished run can write into it), so:
- the launch record beside a run (`.dashboard-launch.json`) holds the launch *form*, signed with a key
  kept in the user's cache folder; Resume checks the signature, then rebuilds the argv through the same
  validation as a new launch, for this run's folder only. A planted or edited record is refused.
- the child runs in the dashboard's own working directory (not a served one: no planted `.env` is read)
  with `python -P` (no planted module shadows an import).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from skillspark.config import get_settings
from skillspark.files import write_atomic

LAUNCH_FILE = ".dashboard-launch.json"
LOG_FILE = ".dashboard-launch.log"
KEY_FILE = "dashboard-launch.key"
# -P: the child's sys.path does not start with its working directory
ENTRY = ["-P", "-c", "from skillspark.cli import main; main()"]


def interruptible() -> None:
    """In the child before exec: SIGINT back to its default. A dashboard started in the background
    (`nohup ... &`, a service) has SIGINT ignored, the child would inherit that, and cancel could not stop it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class LaunchError(Exception):
    """A launch request the dashboard refuses; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class LaunchRequest(BaseModel):
    """What the launch form sends; every value becomes one argv item (none may look like an option)."""

    kind: Literal["explore", "eval"]
    paths: list[str] = Field(min_length=1, max_length=1000)
    output: str = Field(min_length=1)
    model: str | None = None
    max_retries: int | None = Field(default=None, ge=1, le=100)
    parallelism: int | None = Field(default=None, ge=1, le=64)
    k: int | None = Field(default=None, ge=1, le=100)
    conditions: list[str] = Field(default_factory=list, max_length=20)


def launch_key(folder: Path | None = None) -> bytes:
    """This user's key for signing launch records, made once (0600, published by an atomic link)."""
    folder = folder or get_settings().cache_dir
    path = folder / KEY_FILE
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f".{KEY_FILE}.{os.getpid()}.{threading.get_ident()}"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(descriptor, secrets.token_hex(32).encode())
            os.fsync(descriptor)
            os.close(descriptor)
            os.link(temporary, path)  # a concurrent first start keeps the key that won
        except FileExistsError:
            pass
        finally:
            temporary.unlink(missing_ok=True)
    return path.read_bytes()


class Launcher:
    """The processes this dashboard started, by output folder."""

    def __init__(self, roots: list[Path], key: bytes | None = None):
        self.roots = [r.resolve() for r in roots]
        self.processes: dict[Path, subprocess.Popen] = {}
        self.kinds: dict[Path, str] = {}
        self._lock = threading.Lock()
        self._key = key

    def _mac(self, request: LaunchRequest, output: Path) -> str:
        if self._key is None:
            self._key = launch_key()
        body = json.dumps({"request": request.model_dump(mode="json"), "output": str(output)}, sort_keys=True)
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()

    def inside_roots(self, path: Path) -> bool:
        resolved = path.resolve()
        return any(resolved == root or resolved.is_relative_to(root) for root in self.roots)

    def argv(self, request: LaunchRequest) -> tuple[Path, list[str]]:
        """The output folder and the command's arguments (after `skillspark`); LaunchError(400) when refused."""
        values = [*request.paths, request.output, request.model or "", *request.conditions]
        if any(v.startswith("-") or "\x00" in v for v in values):
            raise LaunchError(400, "a path, model or condition may not start with '-' (it would read as an option)")
        output = Path(request.output)
        output = (output if output.is_absolute() else self.roots[0] / output).resolve()
        if not self.inside_roots(output):
            raise LaunchError(400, f"output {request.output} is outside the served folders; choose one inside them")
        missing = [p for p in request.paths if not Path(p).exists()]
        if missing:
            raise LaunchError(400, f"no such task path: {missing[0]}")
        args = [request.kind] if request.kind == "explore" else ["eval", "run"]
        args += [str(Path(p).resolve()) for p in request.paths] + ["--output", str(output)]
        if request.model:
            args += ["--model", request.model]
        if request.kind == "explore":
            args += ["--max-attempts", str(request.max_retries)] if request.max_retries else []
        else:
            if not request.conditions:
                raise LaunchError(400, "an eval needs at least one condition (e.g. none, generated=RUNS_DIR)")
            args += ["-k", str(request.k)] if request.k else []
            for condition in request.conditions:
                args += ["--condition", condition]
        args += ["--parallelism", str(request.parallelism)] if request.parallelism else []
        return output, args

    def alive(self, output: Path) -> bool:
        with self._lock:
            process = self.processes.get(output)
            return process is not None and process.poll() is None

    def start(self, request: LaunchRequest, *, resume: bool = False) -> tuple[Path, list[str], int]:
        """Start `skillspark ARGS` for a validated form in its own process group, its output appended to
        the run's launch log; the signed form is recorded beside the run for a later Resume."""
        output, args = self.argv(request)
        request = request.model_copy(update={"paths": [str(Path(p).resolve()) for p in request.paths],
                                             "output": str(output)})  # a resume does not depend on our cwd
        if resume:
            args.append("--resume")
        if self.alive(output):
            raise LaunchError(409, f"a run started here is still writing to {output}; cancel it first")
        output.mkdir(parents=True, exist_ok=True)
        record = {"request": request.model_dump(mode="json"), "output": str(output), "args": args,
                  "mac": self._mac(request, output)}
        write_atomic(output / LAUNCH_FILE, json.dumps(record))
        with open(output / LOG_FILE, "ab") as log:
            process = subprocess.Popen([sys.executable, *ENTRY, *args], stdin=subprocess.DEVNULL, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True, close_fds=True,
                                       env={**os.environ, "COLUMNS": "160"}, preexec_fn=interruptible)
        with self._lock:
            self.processes[output] = process
            self.kinds[output] = request.kind
        return output, args, process.pid

    def signed_request(self, output: Path) -> LaunchRequest:
        """The launch form recorded beside `output`, if this user's dashboard signed it for this very folder;
        LaunchError(409) otherwise (a planted, edited or moved record)."""
        refused = LaunchError(409, f"{output / LAUNCH_FILE} is not a launch record this dashboard signed; resume "
                                   "the run with the command that started it plus --resume")
        try:
            record = json.loads((output / LAUNCH_FILE).read_text(encoding="utf-8"))
            request = LaunchRequest.model_validate(record["request"])
            mac = record["mac"]
        except (OSError, ValueError, KeyError, TypeError):
            raise refused from None
        if not isinstance(mac, str) or not hmac.compare_digest(mac.encode(), self._mac(request, output).encode()):
            raise refused
        if self.argv(request)[0] != output:
            raise refused  # a signed record copied into another run's folder
        return request

    def resumable(self, output: Path) -> bool:
        try:
            self.signed_request(output)
        except LaunchError:
            return False
        return True

    def resume(self, output: Path) -> int:
        """Start the run's recorded form again with --resume: only a signed record (`signed_request`),
        rebuilt through the launch form's validation (never a recorded argv)."""
        return self.start(self.signed_request(output), resume=True)[2]

    def cancel(self, output: Path) -> int:
        """SIGINT to the run's process group (the CLI then keeps every finished attempt); SIGTERM when repeated."""
        with self._lock:
            process = self.processes.get(output)
        if process is None:
            raise LaunchError(409, "this dashboard did not start that run, so it does not signal it; "
                                   "stop it where it runs (Ctrl-C)")
        if process.poll() is not None:
            raise LaunchError(409, f"the run has already ended (exit code {process.returncode})")
        already = getattr(process, "interrupted", False)
        os.killpg(process.pid, signal.SIGTERM if already else signal.SIGINT)
        process.interrupted = True  # type: ignore[attr-defined]
        return process.pid

    def launched(self) -> dict[Path, str]:
        with self._lock:
            return dict(self.kinds)
