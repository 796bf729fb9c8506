"""Flags renamed so that one name has one meaning across commands (docs/commands.md, "Flag conventions").

The old name keeps working for one release: `cli.main` rewrites it to the new one before click parses
and prints one deprecation warning. Why a rewrite and not a second, hidden option per command: a
renamed flag then has one definition, one default and one help text, and `--help` shows only the new name.
docs/migration.md lists the same table; tests/cli/test_flag_conventions.py checks both.
"""

from __future__ import annotations

from skillspark.params import warn_deprecated

# command path -> {old flag: new flag}
RENAMED: dict[tuple[str, ...], dict[str, str]] = {
    ("run",): {"--jobs-dir": "--output"},
    ("explore",): {"--max-retries": "--max-attempts"},
    ("demo",): {"--max-retries": "--max-attempts"},
    ("eval", "report"): {"--pdi": "--pdi-csv"},
    ("train", "run"): {"--env": "--game"},
    ("train", "eval"): {"--env": "--game"},
    ("train", "compare"): {"--env": "--game"},
}


def command_path(argv: list[str], groups: dict[str, set[str]]) -> tuple[str, ...]:
    """The sub-command names at the head of argv (`["train", "run", ...]` -> ("train", "run"))."""
    path: list[str] = []
    for word in argv:
        if word not in groups.get(" ".join(path), set()):
            break
        path.append(word)
    return tuple(path)


def rename_old_flags(argv: list[str], groups: dict[str, set[str]]) -> list[str]:
    """argv with each renamed flag of its command replaced by the new name (also in `--old=value` form).

    Nothing after a bare `--` is touched: those words belong to the command a sandbox runs. `groups` maps a
    command path ("" for the top) to its sub-command names.
    """
    path = command_path(argv, groups)
    renames = RENAMED.get(path)
    if not renames:
        return argv
    out = list(argv[: len(path)])
    rest = argv[len(path):]
    for i, word in enumerate(rest):
        if word == "--":
            out += rest[i:]
            break
        name, eq, value = word.partition("=")
        if name in renames:
            new = renames[name]
            warn_deprecated(f"skillspark {' '.join(path)}: {name} is renamed {new}")
            word = f"{new}{eq}{value}"
        out.append(word)
    return out
