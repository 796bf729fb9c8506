"""`skillspark sandbox exec|shell`: what a task author uses to poke at a task's environment."""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from skillspark.errors import UserError

app = typer.Typer(no_args_is_help=True, help="Run commands in a task's local sandbox.")

TaskDir = Annotated[Path, typer.Argument(help="Harbor task directory (with task.toml and environment/).")]
NoNetwork = Annotated[bool, typer.Option("--no-network", help="Run without network access.")]


@app.command("exec")
def exec_command(
    task_dir: TaskDir,
    command: Annotated[list[str], typer.Argument(help="Command and arguments (put them after --).")],
    no_network: NoNetwork = False,
    timeout: Annotated[float | None, typer.Option(min=0.1, help="Kill the command after this many seconds.")] = None,
) -> None:
    """Run one command in the task's sandbox; print its output and exit with its code."""
    from skillspark.sandbox.session import task_sandbox

    async def main() -> int:
        async with task_sandbox(task_dir, no_network=no_network) as env:
            result = await env.exec(shlex.join(command), timeout_sec=timeout)
        sys.stdout.write(result.stdout or "")
        sys.stderr.write(result.stderr or "")
        return result.return_code

    with _sandbox_errors_in_one_line():
        code = asyncio.run(main())
    raise typer.Exit(code)


@app.command("shell")
def shell_command(task_dir: TaskDir, no_network: NoNetwork = False) -> None:
    """Open an interactive bash (with a TTY) in the task's sandbox; files vanish when it exits."""
    from skillspark.sandbox.session import task_sandbox

    async def main() -> int:
        async with task_sandbox(task_dir, no_network=no_network) as env:
            argv, command_env = env.interactive_argv(["bash", "-i"])
            proc = await asyncio.to_thread(subprocess.run, argv, env=command_env)
            return proc.returncode

    with _sandbox_errors_in_one_line():
        code = asyncio.run(main())
    raise typer.Exit(code)


@contextlib.contextmanager
def _sandbox_errors_in_one_line() -> Iterator[None]:
    """A failing Dockerfile step is the task's fault: one line with the step and its output's end, exit 2.

    A sandbox that cannot start (a missing tool, a refused namespace) or whose init died (out of
    memory) is one line too, exit 2: the message says what to change.
    """
    from skillspark.core.redact import one_line
    from skillspark.sandbox.build import SandboxBuildError
    from skillspark.sandbox.namespace import NamespaceError
    from skillspark.sandbox.process import SandboxInitError

    try:
        yield
    except (NamespaceError, SandboxInitError) as exc:
        raise UserError(one_line(f"{exc}; or use --env docker", 600)) from None
    except SandboxBuildError as exc:
        step, _, output = str(exc).partition("\n")
        tail = " | ".join(line.strip() for line in output.splitlines()[-3:] if line.strip())
        ends = f"; output ends: {tail}" if tail else ""
        raise UserError(one_line(f"{step}{ends}; fix that step of the Dockerfile", 600)) from None
