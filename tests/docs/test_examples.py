"""Every code example of the docs (and the README) runs or parses, so the docs cannot rot.

The rules for code blocks are in `snippets.py` and on docs/writing-docs.md.
"""

from __future__ import annotations

import pytest

from .snippets import (
    SHELL_LANGUAGES, Block, blocks, check_command, check_inline, check_line, check_usage, inline_commands, input_lines, pages,
    skillspark_argvs,
)

ALL_BLOCKS = [block for page in pages() for block in blocks(page)]
KNOWN_LANGUAGES = SHELL_LANGUAGES | {"python", "usage", "text", "toml", "json", "jsonl", "yaml", "markdown", "ini"}
SHELL_BLOCKS = [b for b in ALL_BLOCKS if b.language in SHELL_LANGUAGES]
USAGE_BLOCKS = [b for b in ALL_BLOCKS if b.language == "usage"]
PYTHON_PAGES = sorted({b.page for b in ALL_BLOCKS if b.language == "python"})


def _id(block: Block) -> str:
    return block.where


def test_every_block_has_a_known_label():
    """A misspelt label (```pyhton) would silently skip an example: refuse labels we do not know."""
    unknown = [f"{b.where}: {b.language!r}" for b in ALL_BLOCKS if b.language not in KNOWN_LANGUAGES]
    assert not unknown, f"unknown code-block labels (see docs/writing-docs.md): {unknown}"


def test_the_docs_have_examples_to_check():
    lines = [line for b in SHELL_BLOCKS for line in input_lines(b) if "skillspark " in line]
    assert len(lines) >= 20 and len(PYTHON_PAGES) >= 3 and len(USAGE_BLOCKS) >= 3


def _refusals(check, items) -> list[str]:
    """`item: why` for each item the check refuses."""
    problems = []
    for item in items:
        try:
            check(item)
        except ValueError as exc:
            problems.append(f"{item!r}: {exc}")
    return problems


@pytest.mark.parametrize("block", SHELL_BLOCKS, ids=_id)
def test_command_lines_parse_against_the_cli(block: Block):
    problems = _refusals(check_line, input_lines(block))
    assert not problems, f"{block.where}: " + "; ".join(problems)


@pytest.mark.parametrize("block", USAGE_BLOCKS, ids=_id)
def test_synopses_name_only_existing_flags(block: Block):
    problems = _refusals(check_usage, input_lines(block))
    assert not problems, f"{block.where}: " + "; ".join(problems)


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.name)
def test_commands_named_in_prose_exist(page):
    problems = _refusals(check_inline, inline_commands(page))
    assert not problems, f"{page.name}: " + "; ".join(problems)


@pytest.mark.parametrize("page", PYTHON_PAGES, ids=lambda p: p.name)
def test_python_examples_run(page, tmp_path, monkeypatch):
    """The page's ```python blocks, in order, in one namespace, in an empty working folder."""
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": f"docs_example_{page.stem}"}
    for block in blocks(page):
        if block.language == "python":
            try:
                exec(compile(block.text, block.where, "exec"), namespace)
            except Exception as exc:
                pytest.fail(f"{block.where}: {type(exc).__name__}: {exc}")


@pytest.mark.parametrize("line, problem", [
    ("skillspark explore TASKS --no-such-flag", "No such option"),
    ("skillspark explore TASKS --model", "requires an argument"),
    ("skillspark tasks vary TASK EXTRA", "no further arguments"),
    (".venv/bin/skillspark nope", "no sub-command"),
    ("bash scripts/setup.sh && skillspark tasks nope", "no sub-command"),
    ("skillspark tasks vary TASK EXTRA > out.txt 2>&1", "no further arguments: \\['EXTRA'\\]"),
])
def test_the_checker_refuses_what_the_cli_refuses(line, problem):
    [argv] = skillspark_argvs(line)
    with pytest.raises(ValueError, match=problem):
        check_command(argv)


def test_the_checker_reads_only_lines_that_run_skillspark():
    assert skillspark_argvs("The guard's password karedlo means: open red door") == []
    with pytest.raises(ValueError, match="not a valid shell line"):
        check_line("skillspark explore 'TASKS --model M")


def test_the_checker_reads_synopses_and_console_output():
    with pytest.raises(ValueError, match="has no sub-command 'gone'"):
        check_inline("skillspark explore|gone TASKS")
    check_inline("skillspark sandbox: served URL offline (...)")  # quoted output, not a command
    with pytest.raises(ValueError, match="no option --gone"):
        check_usage("skillspark tasks audit TASK... [--json F] [--gone|-p N]")
    check_usage("skillspark tasks audit TASK... [--json F] [-p N]")
    console = Block(pages()[0], 1, "console", "$ skillspark demo \\\n  --output out\nskillspark --nope (output)\n")
    assert input_lines(console) == ["skillspark demo    --output out"]


def test_a_deprecated_or_hidden_flag_is_refused():
    """A renamed flag keeps its old name for a release, hidden: the docs must already use the new one."""
    import typer

    from .snippets import _refuse_retired

    app = typer.Typer()

    @app.command()
    def go(new: str = typer.Option("", "--new"), old: str = typer.Option("", "--old", hidden=True)) -> None:
        """A command with an old flag name kept as a hidden alias."""

    command = typer.main.get_command(app)
    _refuse_retired(command, "skillspark go", ["--new", "1"])
    with pytest.raises(ValueError, match="--old is deprecated or hidden"):
        _refuse_retired(command, "skillspark go", ["--old=1"])
