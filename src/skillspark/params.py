"""Checks shared by command-line options, run by click while it parses (before a command starts).

Why here: a bad value then fails as one `error:` line naming the flag (cli.main formats click's
errors), the same way for every command, instead of a traceback from deep inside a run.
"""

from __future__ import annotations

from pathlib import Path

import typer


def output_folder(value: Path | None) -> Path | None:
    """An output folder flag: the path, or the first part of it that exists, must be a folder."""
    if value is None:
        return None
    for part in (value, *value.parents):
        if part.is_dir():
            return value
        if part.exists() or part.is_symlink():
            what = "the path" if part == value else f"its part {part}"
            raise typer.BadParameter(f"{what} exists and is not a folder; pass a folder (new or existing)")
    return value
