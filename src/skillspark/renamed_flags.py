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


def rename_old_flags(argv: list[str]) -> list[str]:
    """argv with each renamed flag of its command replaced by the new name (also in `--old=value` form).

    The command is the longest path of `RENAMED` that argv starts with (no command tree is built: this runs
    before every command). Nothing after a bare `--` is touched: those words belong to the command a
    sandbox runs.
    """
    path = max((key for key in RENAMED if tuple(argv[: len(key)]) == key), key=len, default=None)
    if path is None:
        return argv
    renames = RENAMED[path]
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
