"""`skillspark dashboard [DIR...]`, and the dashboard that `explore|eval --dashboard` serve beside a run.

FastAPI and uvicorn are imported inside the functions so that `skillspark --help` stays fast.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from skillspark.errors import UserError

DEFAULT_PORT = 8765
BESIDE_PORTS = 20  # --dashboard tries 8765, 8766, ... so that two runs can each have one


def _roots(dirs: list[Path] | None) -> list[Path]:
    roots = [d.resolve() for d in (dirs or [Path(".")])]
    for given, root in zip(dirs or [Path(".")], roots, strict=True):
        if not root.is_dir():
            raise UserError(f"{given}: not a directory; pass run folders (explore/eval --output) or folders holding them")
    return roots


def _port_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise UserError(f"--host {host}: cannot bind ({exc.strerror}); pass an address of this machine") from None
    return True


def _url(host: str, port: int, token: str) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/#token={token}"


def _config(roots: list[Path], host: str, port: int, token_file: Path | None, allow_launch: bool,
            allow_host: list[str]):
    import uvicorn

    from skillspark.dashboard.app import create_app
    from skillspark.dashboard.security import Policy, allowed_hosts, check_bind, new_token, read_token

    check_bind(host, token_file)
    token = read_token(token_file) if token_file is not None else new_token()
    policy = Policy(token, allowed_hosts(host, allow_host), token_configured=token_file is not None)
    app = create_app(roots, policy=policy, allow_launch=allow_launch)
    return uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False), _url(host, port, token)


def dashboard(
    dirs: Annotated[list[Path] | None, typer.Argument(help="Run folders, or folders holding runs (default: .).")] = None,
    host: Annotated[str, typer.Option(help="Address to bind; a non-loopback one needs --token-file.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = DEFAULT_PORT,
    token_file: Annotated[Path | None, typer.Option(
        help="File holding the bearer token (default: a random one per start, printed in the URL).")] = None,
    allow_launch: Annotated[bool, typer.Option(
        help="Allow starting, cancelling and resuming explore/eval runs from the page.")] = False,
    allow_host: Annotated[list[str] | None, typer.Option(
        help="Another Host name the browser may use (a DNS name of this machine); repeat.")] = None,
) -> None:
    """Watch explore and eval runs live in a browser: tasks, attempts, memos, PDI, skills, A/B results."""
    import uvicorn

    roots = _roots(dirs)
    if not _port_free(host, port):
        raise UserError(f"--port {port} is already in use on {host}; pass another --port")
    config, url = _config(roots, host, port, token_file, allow_launch, allow_host or [])
    print(f"dashboard: {url}\n  serving {', '.join(map(str, roots))}; Ctrl-C stops it", flush=True)
    uvicorn.Server(config).run()


def beside(enabled: bool, output: Path) -> contextlib.AbstractContextManager:
    """What `explore|eval --dashboard` wrap their run in: `serve_beside(output)`, or nothing when not asked."""
    return serve_beside(output) if enabled else contextlib.nullcontext()


@contextlib.contextmanager
def serve_beside(output: Path) -> Iterator[str]:
    """The dashboard on 127.0.0.1 (first free port from 8765) over `output` while the block runs; yields its URL."""
    import uvicorn

    output.mkdir(parents=True, exist_ok=True)
    port = next((p for p in range(DEFAULT_PORT, DEFAULT_PORT + BESIDE_PORTS) if _port_free("127.0.0.1", p)), None)
    if port is None:
        raise UserError(f"--dashboard: ports {DEFAULT_PORT}-{DEFAULT_PORT + BESIDE_PORTS - 1} are all in use; "
                        f"drop --dashboard and run `skillspark dashboard {output} --port N`")
    config, url = _config([output.resolve()], "127.0.0.1", port, None, False, [])
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="skillspark-dashboard", daemon=True)
    thread.start()
    print(f"dashboard: {url}", file=sys.stderr, flush=True)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        print(f"dashboard: stopped with the run; `skillspark dashboard {output}` serves it again", file=sys.stderr,
              flush=True)
