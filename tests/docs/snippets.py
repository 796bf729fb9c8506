"""Code blocks of the documentation, and `skillspark` command lines checked against the real command tree.

Why: an example that names a removed flag or a renamed sub-command must fail a test, not a reader. The rules
(also on docs/writing-docs.md):

- ```python blocks run, in order, one namespace per page.
- ```bash, ```sh, ```shell and unlabelled blocks: every line is input. ```console blocks: only lines that
  start with `$ ` are input; the rest is output. Every input line (or `&&`/`;`/`|` part of it) that runs
  `skillspark` (or `.venv/bin/skillspark`) is parsed by click's own parser: the sub-commands, every option
  and the number of arguments must fit. A `...` token is a placeholder: an option's value, or "more flags".
- ```usage blocks are synopses (`[--flag VALUE]`, `a|b`): the command path must exist and every flag named
  must be an option of that command.
- ```text blocks (and any other label: toml, json, yaml, markdown) are output or file contents: not checked.
- Inline code in prose that starts with `skillspark ` is read as a synopsis (as ```usage); `a|b` in the
  command path names two commands; a placeholder there (`<command>`, `COMMAND`, `...`) or a word ending in `:`
  (quoted output such as `skillspark sandbox: ...`) leaves the span unchecked.
"""

from __future__ import annotations

import functools
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import typer

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
SHELL_LANGUAGES = {"", "bash", "sh", "shell", "console"}
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\s]*)[^`]*$")
_SKILLSPARK = re.compile(r"^(?:\S*/)?skillspark$")
_MENTIONS = re.compile(r"(?:^|[\s/;&|])skillspark(?:\s|$)")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_SEPARATORS = {"&&", "||", ";", "|", "&"}
_REDIRECTIONS = {">", ">>", "<", "&>"}
_FD_DUPLICATION = re.compile(r"(?<=\s)\d*>&\d+")
_FD_REDIRECTION = re.compile(r"(?<=\s)\d+(>>?)")
_INLINE = re.compile(r"`((?:\S*/)?skillspark [^`]+)`")
_CODE_BLOCK = re.compile(r"^[ \t]*(`{3,}|~{3,}).*?^[ \t]*\1", re.S | re.M)


@dataclass(frozen=True)
class Block:
    """One fenced code block: the page, the line of its opening fence, its language label and its text."""

    page: Path
    line: int
    language: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"


def pages() -> list[Path]:
    """Every Markdown page of the site, and the README."""
    return sorted(DOCS.rglob("*.md")) + [REPO / "README.md"]


def blocks(page: Path) -> Iterator[Block]:
    """The fenced blocks of a Markdown page (indented ones inside lists included, their indent removed)."""
    lines = page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            body.append(lines[j][len(indent):] if lines[j].startswith(indent) else lines[j].lstrip())
            j += 1
        yield Block(page, i + 1, opening["info"].lower(), "\n".join(body) + "\n")
        i = j + 1


def input_lines(block: Block) -> list[str]:
    """The lines a reader would type: continuations joined; in console blocks only the `$ ` lines."""
    text = re.sub(r"\\\n", " ", block.text)
    lines = []
    for line in text.splitlines():
        if block.language == "console":
            if not line.startswith("$ "):
                continue
            line = line[2:]
        if line.strip() and not line.lstrip().startswith("#"):
            lines.append(line)
    return lines


def skillspark_argvs(line: str) -> list[list[str]]:
    """The argument lists (after the program name) of every `skillspark` call on one shell line.

    A line that does not name the program is not read at all (an unlabelled block may hold prose); one
    that does but is not valid shell (an unclosed quote) raises ValueError.
    """
    if not _MENTIONS.search(line):
        return []
    line = _FD_REDIRECTION.sub(r" \1", _FD_DUPLICATION.sub(" ", line))  # 2>&1 and 2> name no argument
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    calls: list[list[str]] = []
    segment: list[str] = []
    try:
        tokens = iter([*lexer, ";"])
    except ValueError as exc:
        raise ValueError(f"not a valid shell line ({exc})") from None
    for token in tokens:
        if token in _REDIRECTIONS:
            next(tokens, None)  # the redirection's target is no argument of the command
        elif token in _SEPARATORS:
            while segment and _ASSIGNMENT.match(segment[0]):
                segment.pop(0)
            if segment and _SKILLSPARK.match(segment[0]):
                calls.append(segment[1:])
            segment = []
        else:
            segment.append(token)
    return calls


@functools.cache
def _root_command():
    """The click command tree of `skillspark` (built once: it takes a while)."""
    from skillspark.cli import app

    return typer.main.get_command(app)


def _resolve(argv: list[str]):
    """(leaf command, its arguments, its name) for an argument list, through the groups' own parsing."""
    command = _root_command()
    context = command.context_class(command, info_name="skillspark", resilient_parsing=True)
    name = "skillspark"
    rest = list(argv)
    while getattr(command, "commands", None):
        command.parse_args(context, rest)
        rest = [*context._protected_args, *context.args]
        if not rest or rest[0] in ("--help", "-h"):
            return None, [], name
        sub = command.get_command(context, rest[0])
        if sub is None:
            raise ValueError(f"`{name}` has no sub-command {rest[0]!r}")
        name = f"{name} {rest[0]}"
        command, rest = sub, rest[1:]
        context = command.context_class(command, info_name=name, parent=context, resilient_parsing=True)
    return command, rest, name


def check_command(argv: list[str]) -> None:
    """Parse a concrete command line with click's parser, without running it: raises ValueError when a
    sub-command or option does not exist, an option lacks its value, or there are arguments left over."""
    command, rest, name = _resolve(argv)
    if command is None:
        return
    context = command.context_class(command, info_name=name)
    parser = command.make_parser(context)
    try:
        _, leftover, _ = parser.parse_args(args=list(rest))
    except Exception as exc:  # click's UsageError family: no such option, option needs a value
        raise ValueError(f"`{name}`: {getattr(exc, 'message', exc)}") from None
    leftover = [arg for arg in leftover if arg != "..."]
    if leftover:
        raise ValueError(f"`{name}` takes no further arguments: {leftover}")
    _refuse_retired(command, name, rest[: rest.index("--")] if "--" in rest else rest)


def _refuse_retired(command, name: str, words: list[str]) -> None:
    """A hidden or deprecated option (a renamed flag's old name, kept for a release) is not for the docs."""
    retired = {opt for param in command.params if getattr(param, "hidden", False) or getattr(param, "deprecated", False)
               for opt in [*param.opts, *getattr(param, "secondary_opts", [])]}
    used = sorted({word.split("=", 1)[0] for word in words} & retired)
    if used:
        raise ValueError(f"`{name}`: {', '.join(used)} is deprecated or hidden; the docs use the current name")


def option_names(command) -> set[str]:
    names: set[str] = set()
    for param in command.params:
        names.update(param.opts)
        names.update(getattr(param, "secondary_opts", ()))
    return names | {"--help"}


def check_usage(line: str) -> None:
    """Check a synopsis line: the command path exists and every flag it names is one of its options."""
    words = line.split(" #", 1)[0].replace("[", " ").replace("]", " ").split()
    if not words or not _SKILLSPARK.match(words[0]):
        return
    command, rest, name = _resolve(words[1:])
    if command is None:
        return
    known = option_names(command)
    for word in rest:
        for piece in re.split(r"[|/]", word):
            flag = piece.split("=", 1)[0].rstrip(",")
            if flag.startswith("-") and flag != "--" and not re.fullmatch(r"-[\d.]+", flag) and flag not in known:
                raise ValueError(f"`{name}` has no option {flag}")
            _refuse_retired(command, name, [flag])


def inline_commands(page: Path) -> list[str]:
    """The inline code spans of a page's prose (outside fenced blocks) that start with `skillspark `."""
    prose = _CODE_BLOCK.sub("", page.read_text(encoding="utf-8"))
    return [" ".join(span.split()) for span in _INLINE.findall(prose)]


def check_inline(span: str) -> None:
    """Check an inline `skillspark ...` span as a synopsis, once per alternative of its command word."""
    words = span.split()
    if len(words) < 2:
        return
    word = words[1]
    if word.startswith(("<", "-")) or word.isupper() or word == "..." or word.endswith(":"):
        return
    for alternative in word.split("|"):
        check_usage(" ".join([words[0], alternative, *words[2:]]))


def check_line(line: str) -> None:
    """Check every `skillspark` call on one shell line (see `check_command`)."""
    for argv in skillspark_argvs(line):
        check_command(argv)
