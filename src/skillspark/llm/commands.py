"""`skillspark model serve|info`: the embedded model as an OpenAI-compatible endpoint on 127.0.0.1."""

from __future__ import annotations

import time

import typer

from skillspark.errors import UserError

app = typer.Typer(no_args_is_help=True)


@app.command()
def serve(port: int = typer.Option(None, "--port", min=0, max=65535,
                                   help="Port on 127.0.0.1 (default or 0: a free one).")) -> None:
    """Serve the embedded SmolLM2 model in the foreground until Ctrl-C (joins a running one on the same port)."""
    from skillspark.llm.local_server import local_model_endpoint_sync, running_server

    state = running_server()
    if state is not None and port is not None and state.port != port:
        raise UserError(f"--port {port}: the embedded model is already served at {state.base_url} (pid {state.pid}); "
                        f"use --port {state.port}, or stop that server first")
    with local_model_endpoint_sync(port) as base_url:
        typer.echo(f"serving local/smollm2 at {base_url} (model name for OpenAI clients: smollm2); Ctrl-C stops "
                   "it once no other skillspark process uses it")
        try:
            while running_server() is not None:
                time.sleep(1.0)
            typer.echo("the server stopped")
        except KeyboardInterrupt:
            typer.echo("stopping")


@app.command()
def info() -> None:
    """Print the embedded model's GGUF path and size, and whether a server is running."""
    from skillspark.llm.local_server import gguf_path, log_path, running_server

    path = gguf_path()
    typer.echo(f"model:   local/smollm2 (SmolLM2-135M-Instruct)\ngguf:    {path}")
    typer.echo(f"size:    {path.stat().st_size / 2**20:.1f} MiB")
    state = running_server()
    typer.echo(f"server:  {f'running at {state.base_url} (pid {state.pid})' if state else 'not running'}")
    typer.echo(f"log:     {log_path()}")
