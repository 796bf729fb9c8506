"""Serving the dashboard: the uvicorn config over some run folders, and the dashboard that runs beside a run.

Why apart from the command: `explore --dashboard` and `eval --dashboard` serve it while their run lasts
(`beside`), and `skillspark dashboard` serves it until Ctrl-C; both build the server here. FastAPI and
uvicorn are imported inside the functions so that `skillspark --help` stays fast.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from skillspark.errors import UserError

DEFAULT_PORT = 8765
BESIDE_PORTS = 20  # --dashboard tries 8765, 8766, ... so that two runs can each have one


def port_free(host: str, port: int) -> bool:
    """Whether `port` can be bound on `host` now; UserError when `host` is no address of this machine."""
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


def server_config(roots: list[Path], host: str, port: int, token_file: Path | None, allow_launch: bool,
                  allow_host: list[str]):
    """The uvicorn config of the app over `roots` with its security policy, and the URL (with token) to open."""
    import uvicorn

    from skillspark.dashboard.app import create_app
    from skillspark.dashboard.security import Policy, allowed_hosts, check_bind, new_token, read_token

    check_bind(host, token_file)
    token = read_token(token_file) if token_file is not None else new_token()
    policy = Policy(token, allowed_hosts(host, allow_host), token_configured=token_file is not None)
    app = create_app(roots, policy=policy, allow_launch=allow_launch)
    return uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False), _url(host, port, token)


def beside(enabled: bool, output: Path) -> contextlib.AbstractContextManager:
    """What `explore|eval --dashboard` wrap their run in: `serve_beside(output)`, or nothing when not asked."""
    return serve_beside(output) if enabled else contextlib.nullcontext()


@contextlib.contextmanager
def serve_beside(output: Path) -> Iterator[str]:
    """The dashboard on 127.0.0.1 (first free port from 8765) over `output` while the block runs; yields its URL."""
    import uvicorn

    output.mkdir(parents=True, exist_ok=True)
    port = next((p for p in range(DEFAULT_PORT, DEFAULT_PORT + BESIDE_PORTS) if port_free("127.0.0.1", p)), None)
    if port is None:
        raise UserError(f"--dashboard: ports {DEFAULT_PORT}-{DEFAULT_PORT + BESIDE_PORTS - 1} are all in use; "
                        f"drop --dashboard and run `skillspark dashboard {output} --port N`")
    config, url = server_config([output.resolve()], "127.0.0.1", port, None, False, [])
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
