"""What command-line options share: checks run while click parses, options read from a config model, lists.

Why here: a bad value then fails as one `error:` line naming the flag (cli.main formats click's errors),
the same way for every command, instead of a traceback from deep inside a run; and a flag whose default,
help and bounds come from its config field cannot drift from what the Python API does with no flag at all.
docs/commands.md ("Flag conventions") is the table of what each flag name means.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import annotated_types
import typer
from pydantic import BaseModel
from pydantic_core import PydanticUndefined


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


def default_of(model: type[BaseModel], field: str) -> Any:
    """The default of `model.field`: what a flag backed by that field defaults to."""
    info = model.model_fields[field]
    if info.default is PydanticUndefined:
        return info.default_factory() if info.default_factory else None
    return info.default


def field_option(model: type[BaseModel], field: str, *names: str, **extra: Any) -> Any:
    """A typer option whose help and numeric bounds are those of `model.field` (its `description`, `ge`/`le`).

    The parameter's default must be `default_of(model, field)`; tests/cli/test_config_flags.py checks every
    field-backed flag against its field (default, help, bounds), so the command line and the Python API
    cannot disagree. `extra` passes other typer.Option arguments (a callback, a help suffix: `help_suffix`).
    """
    info = model.model_fields[field]
    if not info.description:
        raise TypeError(f"{model.__name__}.{field} needs a description: it is the help of {names}")
    bounds: dict[str, Any] = {}
    for rule in info.metadata:
        if isinstance(rule, annotated_types.Ge):
            bounds["min"] = rule.ge
        elif isinstance(rule, annotated_types.Le):
            bounds["max"] = rule.le
    suffix = extra.pop("help_suffix", "")
    option = typer.Option(*names, help=info.description + suffix, **bounds, **extra)
    option.config_field = (model, field)  # read by the config/flag test
    return option


def list_values(values: list[str] | None, flag: str) -> list[str] | None:
    """A list flag's items. Lists are given by repeating the flag (`--tasks a --tasks b`); a value with commas
    (the old form of some commands) is split for one more release, with a deprecation warning."""
    if not values:
        return None
    items: list[str] = []
    for value in values:
        if "," in value:
            warn_deprecated(f"{flag} {value}: comma-separated lists are deprecated; repeat the flag instead "
                            f"({' '.join(f'{flag} {part.strip()}' for part in value.split(',') if part.strip())})")
        items += [part.strip() for part in value.split(",") if part.strip()]
    return items


def warn_deprecated(message: str) -> None:
    """One line on stderr for a deprecated use that still works (renamed flags, comma lists)."""
    print(f"warning: {message}; the old form goes in the next release", file=sys.stderr, flush=True)


# The same option on every command that has it: defined once here.
Dashboard = Annotated[bool, typer.Option(
    "--dashboard", help="Serve the live dashboard of the output folder on 127.0.0.1 while the command runs.")]
