"""Keep a distilled skill to what happened: find its URLs, file paths and commands, drop invented ones.

A skill teaches through what it tells the student to open or type, so each such item must occur in the
evidence the distiller was shown (the six blocks and the instruction), compared with whitespace
collapsed. Quoting passes; paraphrase and invention do not. What is checked:
- URLs and file paths (absolute, `./`, `~/`, `dir/file.ext`, `file.ext` for data and script extensions)
  in prose;
- inline `code` that reads as a command (a known program or a path, then arguments; or a pipe into a
  program, or a redirect into a file);
- every line of a code block of two words or more; comment lines are read as prose.
An invented item in prose drops its line (a Markdown link keeps its text). In a shell block an invented
line goes alone; any other block (Python, a heredoc) goes whole, since half a function teaches nothing
true. The key commands of the successful attempt must then appear verbatim (`missing`).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import PurePosixPath
from typing import Literal

from pydantic import BaseModel

from skillspark.core.skillspec import set_frontmatter, split_frontmatter

Kind = Literal["url", "path", "command", "code"]

_SHELL_LANGS = {"", "bash", "sh", "shell", "console", "zsh", "terminal", "shell-session"}
_PROGRAMS = frozenset(
    "apt apt-get awk bash cargo cat cd chmod chown cp curl diff docker echo env export find gcc git go grep "
    "gunzip gzip head java jq ls make mkdir mv node npm npx patch perl pip pip3 printf python python3 pytest "
    "rm rsync ruby sed sh sort sudo tail tar tee touch unzip uv uvx wget xargs yarn zip".split()
)
_EXTENSIONS = (
    "py|sh|bash|json|jsonl|csv|tsv|txt|md|yaml|yml|toml|ini|cfg|conf|log|xml|html|css|js|ts|sql|c|h|cpp|"
    "go|rs|java|rb|r|ipynb|xlsx|xls|pdf|png|jpg|jpeg|svg|parquet|gz|zip|tar|lock|env"
)
_FENCE = re.compile(r"^ {0,3}(```|~~~)\s*([\w+-]*)")
_LINK = re.compile(r"\[([^\]\n]*)\]\(([^)\s]+)[^)]*\)")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_URL = re.compile(r"\b(?:https?|ftp)://[^\s<>()\[\]`'\"]+")
_PATH = re.compile(
    rf"(?<![\w/.:~-])(?:(?:~|\.\.?)?/[A-Za-z_][\w.-]*(?:/[\w.-]+)*/?|[\w-]+(?:/[\w.-]+)+\.(?:{_EXTENSIONS})\b)"
)
_FILE_NAME = re.compile(rf"^[\w.-]+\.(?:{_EXTENSIONS})$")
# in prose only names whose extension is no word of its own ("Node.js", "SKILL.md" are names, not files)
_PROSE_FILE = re.compile(r"(?<![\w/.-])[\w-]+\.(?:py|sh|json|jsonl|csv|tsv|txt|yaml|yml|toml|ini|cfg|log|xml|html|"
                         r"sql|ipynb|xlsx|pdf|png|jpg|parquet)\b")
_PROGRAM_NAME = "(?:" + "|".join(sorted(map(re.escape, _PROGRAMS), key=len, reverse=True)) + r")\b"
# shell glue: a pipe or `&&` into a program, or a redirect into a file (not `x > 0`, not `str | None`)
_OPERATOR = re.compile(rf"\S\s*(?:(?:\||&&|;)\s*{_PROGRAM_NAME}|>>?\s*[\w~./-]*[./][\w-]+)")
_WORD = re.compile(r"\w+")


class Claim(BaseModel):
    kind: Kind
    text: str


class GateResult(BaseModel):
    """The skill with invented items removed, what was checked, and the key commands it lacks."""

    text: str
    grounded: list[Claim]
    removed: list[Claim]
    missing: list[str]

    def removed_counts(self) -> Counter[str]:
        return Counter(c.kind for c in self.removed)

    def mostly_invented(self) -> bool:
        """More invented items than grounded ones: the model's prose is not to be trusted either."""
        return len(self.removed) > len(self.grounded)


def _squash(text: str) -> str:
    return " ".join(text.split())


class Corpus:
    """The evidence as one whitespace-collapsed string; `item in corpus` is the grounding test."""

    def __init__(self, text: str) -> None:
        self._text = _squash(text)

    def __contains__(self, item: object) -> bool:
        needle = _squash(str(item))
        return bool(needle) and needle in self._text


def looks_like_command(code: str) -> bool:
    """`python3 solve.py`, `./run.sh --fast`, `grep x | wc -l`: a program or path with arguments."""
    words = code.strip().removeprefix("$ ").split()
    if len(words) < 2:
        return False
    first = words[0]
    return PurePosixPath(first).name in _PROGRAMS or first.startswith(("/", "./", "~/")) or bool(_OPERATOR.search(code))


def _trim(item: str) -> str:
    return item.rstrip(".,;:!?")


def _span_claims(code: str) -> list[Claim]:
    if _URL.fullmatch(code.strip()):
        return [Claim(kind="url", text=_trim(code.strip()))]
    if looks_like_command(code):
        return [Claim(kind="command", text=code.strip().removeprefix("$ "))]
    if _FILE_NAME.match(code.strip()):
        return [Claim(kind="path", text=code.strip())]
    return _bare_claims(code)


def _bare_claims(text: str) -> list[Claim]:
    claims = [Claim(kind="url", text=_trim(u)) for u in _URL.findall(text)]
    rest = _URL.sub(" ", text)
    claims += [Claim(kind="path", text=_trim(p)) for p in _PATH.findall(rest) if _trim(p) not in ("/", "")]
    rest = _PATH.sub(" ", rest)
    return claims + [Claim(kind="path", text=p) for p in _PROSE_FILE.findall(rest)]


class _Gate:
    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus
        self.grounded: list[Claim] = []
        self.removed: list[Claim] = []

    def _judge(self, claim: Claim) -> bool:
        text = claim.text.rstrip("/") if claim.kind == "url" else claim.text
        ok = text in self.corpus
        (self.grounded if ok else self.removed).append(claim)
        return ok

    def prose(self, line: str) -> str | None:
        """The line, with invented links reduced to their text; None when it holds an invented item."""

        def link(m: re.Match[str]) -> str:
            return m.group(0) if self._judge(Claim(kind="url", text=m.group(2))) else m.group(1)

        line = _LINK.sub(link, line)
        rest = _LINK.sub(lambda m: m.group(1), line)  # link targets are judged already
        claims = [c for span in _CODE_SPAN.findall(rest) for c in _span_claims(span)]
        claims += _bare_claims(_CODE_SPAN.sub(" ", rest))
        verdicts = [self._judge(c) for c in claims]
        return line if all(verdicts) else None

    def block(self, lang: str, lines: list[str]) -> list[str]:
        """A code block's lines as kept; an empty list drops the block with its fences."""
        per_line = lang in _SHELL_LANGS and not any("<<" in x or x.rstrip().endswith("\\") for x in lines)
        kept: list[str] = []
        code: list[str] = []
        invented = False
        for line in lines:
            stripped = line.strip()
            if stripped.startswith(("#", "//")):
                if (new := self.prose(line)) is not None:
                    kept.append(new)
                continue
            if len(_WORD.findall(stripped)) < 2:
                kept.append(line)
                continue
            if per_line:
                ok = self._judge(Claim(kind="command", text=stripped.removeprefix("$ ")))
            else:
                ok = stripped in self.corpus
            invented = invented or not ok
            if ok or not per_line:
                kept.append(line)
                code.append(line)
        if not per_line and code:
            (self.removed if invented else self.grounded).append(Claim(kind="code", text="\n".join(code)))
            if invented:
                return []
        return [] if invented and not code else kept


def _body(gate: _Gate, body: str) -> str:
    lines = body.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if fence is None:
            if (new := gate.prose(lines[i])) is not None:
                out.append(new)
            i += 1
            continue
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip().startswith(fence.group(1))), len(lines))
        kept = gate.block(fence.group(2).lower(), lines[i + 1 : end])
        if kept:
            out += [lines[i], *kept, *lines[end : end + 1]]
        i = end + 1
    return "\n".join(out)


def missing_commands(text: str, key_commands: list[str]) -> list[str]:
    """The key commands that `text` does not quote (whitespace collapsed; a cut `…` tail excused)."""
    body = Corpus(text)
    return [c for c in key_commands if c.removesuffix(" …") not in body]


def gate(text: str, corpus: Corpus, key_commands: list[str]) -> GateResult:
    """Remove the items of a SKILL.md that are not in `corpus`; a description holding one is emptied
    (the spec repair then writes one from the evidence)."""
    checker = _Gate(corpus)
    data, body, _ = split_frontmatter(text)
    head = text[: len(text) - len(body)]
    description = data.get("description") if data else None
    invented_description = isinstance(description, str) and checker.prose(description) is None
    new_body = _body(checker, body)
    result = head + new_body
    if invented_description:
        result = set_frontmatter(result, {"description": ""})
    return GateResult(text=result, grounded=checker.grounded, removed=checker.removed,
                      missing=missing_commands(new_body, key_commands))


def commands_section(commands: list[str]) -> str:
    """A "Commands that worked" section quoting `commands` in run order."""
    listing = "\n".join(commands) if commands else "# (no commands were recorded for the successful attempt)"
    return ("## Commands that worked\n"
            "The successful attempt ran these commands, in this order:\n\n"
            f"```bash\n{listing}\n```\n")
