"""MkDocs hook: the command reference page, generated from the real `skillspark` command tree at build time.

Why generated: every flag's name, type, default and help live once, in the code; a hand-written copy of
them would drift the day a flag changes. The page holds a marker that this hook replaces; the area pages
explain the commands, this page lists them whole.
"""

from __future__ import annotations

import enum
from pathlib import PurePath

MARKER = "<!-- cli-reference -->"


def on_page_markdown(markdown: str, page, config, files) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, reference())


def reference() -> str:
    import typer

    from skillspark.cli import app

    return "\n".join(_command(path, command) for path, command in _leaves(typer.main.get_command(app), []))


def _leaves(command, path: list[str]):
    subs = getattr(command, "commands", None)
    if not subs:
        yield path, command
        return
    for name in sorted(subs):
        yield from _leaves(subs[name], [*path, name])


def _command(path: list[str], command) -> str:
    name = " ".join(["skillspark", *path])
    context = command.context_class(command, info_name=name)
    arguments = [p for p in command.params if p.param_type_name == "argument"]
    options = [p for p in command.params if p.param_type_name == "option" and not getattr(p, "hidden", False)]
    usage = " ".join([name, "[OPTIONS]" if options else "", *(_argument(p) for p in arguments)]).replace("  ", " ")
    lines = [f"## `{' '.join(path)}`", "", _cell((command.help or "").strip().split("\n\n")[0]), "",
             f"`{usage}`", ""]
    if arguments or options:
        lines += ["| parameter | type | default | help |", "|---|---|---|---|"]
        for param in arguments + options:
            names = " / ".join(f"`{o}`" for o in [*param.opts, *getattr(param, "secondary_opts", [])])
            if param.param_type_name == "argument":
                names = f"`{_argument(param)}`"
            lines.append(f"| {names} | `{_type(param, context)}` | {_default(param)} | {_cell(param.help or '')} |")
        lines.append("")
    return "\n".join(lines)


def _argument(param) -> str:
    text = param.name.upper() + ("..." if param.nargs == -1 else "")
    return text if param.required else f"[{text}]"


def _type(param, context) -> str:
    try:
        return param.display_type(context).strip("<>")
    except Exception:  # a parameter type without a display name: say nothing rather than guess
        return ""


def _default(param) -> str:
    if param.required:
        return "required"
    value = param.default
    if callable(value) or value is None or value == () or value == []:
        return "–"
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool) and getattr(param, "secondary_opts", None):
        value = param.opts[0] if value else param.secondary_opts[0]
    if isinstance(value, PurePath):
        value = str(value)
    return f"`{value}`"


def _cell(text: str) -> str:
    """One table cell: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")
