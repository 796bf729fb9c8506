"""Errors a user can cause and fix: the CLI turns them into one line and exit code 2."""

import sys

# typer 0.29 vendors click: its parser raises these, not the installed click's classes
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError

__all__ = ["ClickException", "NoArgsIsHelpError", "UsageError", "UserError", "print_error", "usage_error_line"]

from skillspark.core.redact import redact


class UserError(Exception):
    """Bad input (file, flag, missing binary, unreachable endpoint).

    The message must say what is wrong, where (file or flag), and how to fix it, in one line.
    It must never contain a secret.
    """

    exit_code = 2


def print_error(message: str) -> None:
    """The one shape of a user error on stderr, also used for each task a batch leaves out and goes on without.

    Redacted here, the one place every error line passes: a message built from a provider's reply or a
    path cannot carry a key to the terminal or a CI log.
    """
    print(f"error: {redact(message)}", file=sys.stderr, flush=True)


def usage_error_line(exc: UsageError) -> str:
    """A command-line parsing error (a value out of range, a missing or unknown option, a file where a folder
    must go) as one line naming the command, instead of typer's boxed usage."""
    command = exc.ctx.command_path if exc.ctx is not None else "skillspark"
    message = " ".join(exc.format_message().split()).rstrip(".")
    return f"{command}: {message}; see `{command} --help`"
