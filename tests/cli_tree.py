"""The command tree of `skillspark` as click sees it: every leaf command, and parsing without running it."""

from __future__ import annotations

from collections.abc import Iterator

import typer

from skillspark.cli import app


def leaf_commands() -> Iterator[tuple[list[str], object]]:
    """(path, command) for every runnable command, e.g. (["eval", "run"], <command>)."""

    def walk(command, path: list[str]):
        subs = getattr(command, "commands", None)
        if subs:
            for name, sub in subs.items():
                yield from walk(sub, [*path, name])
        else:
            yield path, command

    yield from walk(typer.main.get_command(app), [])


def numeric_options(command) -> list:
    return [p for p in command.params
            if p.param_type_name == "option" and p.type_descriptor.annotation in (int, float)]


def required_dummies(command) -> list[str]:
    """Values for the command's required parameters that parse ('.': an existing folder, any string)."""
    args: list[str] = []
    for param in command.params:
        if param.required:
            args += ["."] if param.param_type_name == "argument" else [param.opts[0], "."]
    return args


def parse(path: list[str], command, args: list[str]) -> dict:
    """The parameters click would call the command with; raises click's UsageError instead of running it."""
    with command.make_context(" ".join(["skillspark", *path]), [*args, *required_dummies(command)]) as ctx:
        return dict(ctx.params)
