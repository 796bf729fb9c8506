"""`skillspark dashboard [DIR...]`: serve the dashboard over run folders until Ctrl-C (built by `dashboard.server`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from skillspark.dashboard.server import DEFAULT_PORT, port_free, server_config
from skillspark.errors import UserError


def _roots(dirs: list[Path] | None) -> list[Path]:
    roots = [d.resolve() for d in (dirs or [Path(".")])]
    for given, root in zip(dirs or [Path(".")], roots, strict=True):
        if not root.is_dir():
            raise UserError(f"{given}: not a directory; pass run folders (explore/eval --output) or folders holding them")
    return roots


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
    if not port_free(host, port):
        raise UserError(f"--port {port} is already in use on {host}; pass another --port")
    config, url = server_config(roots, host, port, token_file, allow_launch, allow_host or [])
    print(f"dashboard: {url}\n  serving {', '.join(map(str, roots))}; Ctrl-C stops it", flush=True)
    uvicorn.Server(config).run()
