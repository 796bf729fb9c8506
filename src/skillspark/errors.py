"""Errors a user can cause and fix: the CLI turns them into one line and exit code 2."""

import sys

from skillspark.llm.redact import redact


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
