"""One flag name, one meaning: every command's options against the conventions table in docs/commands.md.

The table ("Flag conventions") says for each shared flag what kind of value it takes. Walking the command
tree, a flag used by two commands must be in the table, take the kind of value the table says, and a short
flag must stand for the same long flag everywhere. Renamed flags (`renamed_flags.RENAMED`) must exist under
their new name, be gone under the old one, still work through `cli.main` with a warning, and be listed in
docs/migration.md.
"""

from __future__ import annotations

import enum
import re
import types
import typing
from collections import defaultdict
from pathlib import Path

import pytest

from skillspark.cli import main
from skillspark.renamed_flags import RENAMED
from tests.cli_tree import leaf_commands

DOCS = Path(__file__).resolve().parents[2] / "docs"
ROW = re.compile(r"^\| (`-[^|]+) \| (TEXT|INT|NUMBER|PATH|switch) \| (.+) \|$")
# Help texts that take one value with commas that is not a list (a pair of bounds)
COMMA_VALUES_ALLOWED = {"--calibrate-band"}


def conventions() -> dict[str, tuple[str, tuple[str, ...]]]:
    """Flag name -> (value kind, all names of that row) from the table in docs/commands.md."""
    text = (DOCS / "commands.md").read_text(encoding="utf-8")
    section = text.split("## Flag conventions", 1)[1].split("\n## ", 1)[0]
    table: dict[str, tuple[str, tuple[str, ...]]] = {}
    for line in section.splitlines():
        if match := ROW.match(line):
            names = tuple(re.findall(r"`(-[^`]+)`", match.group(1)))
            for name in names:
                table[name] = (match.group(2), names)
    return table


def kind_of(param) -> str:
    """The kind of value an option takes, in the table's words."""
    if param.is_flag:
        return "switch"
    annotation = param.type_descriptor.annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):  # `X | None`
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    if typing.get_origin(annotation) is list:  # a repeated flag: the kind of each value
        annotation = typing.get_args(annotation)[0]
    if annotation is Path:
        return "PATH"
    if annotation is bool:
        return "switch"
    if annotation is int:
        return "INT"
    if annotation is float:
        return "NUMBER"
    if annotation is str or typing.get_origin(annotation) is typing.Literal or (
            isinstance(annotation, type) and issubclass(annotation, enum.Enum)):
        return "TEXT"
    raise AssertionError(f"{param.opts}: unknown annotation {annotation!r}")


def options():
    for path, command in leaf_commands():
        for param in command.params:
            if param.param_type_name == "option" and not param.hidden and param.name != "help":
                yield " ".join(path), param


def test_the_table_is_read():
    table = conventions()
    assert table["--model"][0] == "TEXT" and table["-m"][1] == ("--model", "-m")
    assert table["--json"][0] == "PATH" and table["--resume"][0] == "switch" and len(table) >= 30


def test_every_shared_flag_is_in_the_table_with_the_kind_it_takes():
    table = conventions()
    used: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for command, param in options():
        for name in param.opts:
            if name.startswith("--"):
                used[name].append((command, kind_of(param)))
    problems = []
    for name, uses in sorted(used.items()):
        if len(uses) > 1 and name not in table:
            problems.append(f"{name} is used by {[c for c, _ in uses]} but not in docs/commands.md's table")
        if name in table:
            problems += [f"{command} {name} takes {kind}, the table says {table[name][0]}"
                         for command, kind in uses if kind != table[name][0]]
    assert not problems, "\n".join(problems)


def test_a_short_flag_stands_for_one_long_flag_everywhere():
    table = conventions()
    meanings: dict[str, set[str]] = defaultdict(set)
    for command, param in options():
        longs = [o for o in param.opts if o.startswith("--")]
        for short in (o for o in param.opts if not o.startswith("--")):
            meanings[short].add(longs[0] if longs else short)
            assert short in table, f"{command}: short flag {short} is not in docs/commands.md's table"
    assert {s: m for s, m in meanings.items() if len(m) > 1} == {}


def test_lists_are_repeated_flags_not_comma_strings():
    commas = [f"{command} {param.opts[0]}" for command, param in options()
              if re.search(r"comma[- ]separated", (param.help or "").lower()) and param.opts[0] not in COMMA_VALUES_ALLOWED]
    assert commas == []


RENAMES = [(path, old, new) for path, renames in RENAMED.items() for old, new in renames.items()]


@pytest.mark.parametrize(("path", "old", "new"), RENAMES, ids=[f"{' '.join(p)}:{o}" for p, o, _ in RENAMES])
def test_a_renamed_flag_exists_under_its_new_name_only_and_is_in_the_migration_notes(path, old, new):
    commands = {tuple(p): c for p, c in leaf_commands()}
    names = {o for p in commands[path].params for o in (*p.opts, *p.secondary_opts)}
    assert new in names and old not in names
    migration = (DOCS / "migration.md").read_text(encoding="utf-8")
    assert f"| `{' '.join(path)}` | `{old}` | `{new}` |" in migration


def test_an_old_flag_name_still_works_and_warns(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["explore", "nowhere", "--max-retries", "0"])  # parsed as --max-attempts 0: below its bound
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert "warning: skillspark explore: --max-retries is renamed --max-attempts" in err
    assert "--max-attempts" in err.splitlines()[-1] and err.splitlines()[-1].startswith("error: ")


def test_words_after_a_double_dash_are_never_renamed():
    from skillspark.renamed_flags import rename_old_flags

    assert rename_old_flags(["run", "t", "--jobs-dir=j", "--", "--jobs-dir"]) == \
        ["run", "t", "--output=j", "--", "--jobs-dir"]
    assert rename_old_flags(["sandbox", "exec", "t", "--", "--jobs-dir"]) == \
        ["sandbox", "exec", "t", "--", "--jobs-dir"]
