"""Gate `leak`: the oracle's outputs, or substantial pieces of them, are not where the agent can look.

What the agent sees: instruction.md, the environment's build context (Dockerfile included) and the
built image outside /tests and /solution (with the local sandbox: its built layer, the files the
Dockerfile added). Pieces of an output file: its whole text, each line of at least 16 characters,
each number with at least 4 significant digits, each JSON string of at least 8 characters (for a
file the oracle changed rather than created, only the lines it changed). Shorter pieces are too
common to mean anything ("hello", "42"), unless a file the agent can read holds exactly that output.

A piece also found in an input the instruction names is derivable, not leaked: a task that extracts
lines from a log legitimately outputs what the log holds. An input is a file the instruction names,
or a file in a folder the instruction names *as a folder* (`/app/corpus`, not the `/app` of
`/app/words.txt`), with no hidden part below that folder (`/app/.cache/...` is nobody's input).
In the instruction itself only pieces with a digit count: it must spell out headers, keys and fixed
words (`timestamp,sensor,temperature_c`), while a computed answer almost always holds a number.

Two rules catch what pieces cannot:
- a copy: a file the agent can read, not an input, whose whole text is a short output's ("42");
- a stated answer: the instruction holds an output's whole text (2+ characters, as a token of its
  own) in a task that has an input to derive it from ("... Hint: the answer is `the`"), unless it
  specifies it: the text follows a verb that asks for it ("write the word `ready`", "containing
  `hello`") or is one of alternatives (`pass` or `fail`). A task without inputs is its own specification.
"""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path

from pydantic import BaseModel

from skillspark.taskgen.gates.image import layer_files
from skillspark.taskgen.gates.lint import named_in
from skillspark.taskgen.gates.models import GateResult

MIN_WHOLE_CHARS = 8
MIN_LINE_CHARS = 16
MIN_STRING_CHARS = 8
MIN_NUMBER_DIGITS = 4
MAX_SCANNED_BYTES = 64 * 2**20
MAX_FILE_BYTES = 4 * 2**20
# A number on its own: not part of a word, a date, a time, a version or a path.
_NUMBER = re.compile(r"(?<![\w.\-:/])-?\d+(?:\.\d+)?(?![\w\-:/]|\.\d)")
_HIDDEN_FROM_AGENT = ("tests", "solution")


class Source(BaseModel):
    """One thing the agent can read: its label, its text, and whether the instruction names it as an input."""

    label: str
    text: str
    named: bool = False  # the file, or a folder holding it, is named as an input
    spec: bool = False  # the instruction: it must state formats, headers and fixed words; data has digits


def normalize(text: str) -> str:
    return " ".join(text.split())


def _significant_digits(number: str) -> int:
    return len(number.lstrip("-").replace(".", "").lstrip("0"))


def pieces_of(text: str, *, original: str | None = None) -> list[str]:
    """The substantial pieces of one output's text; `original`: the file before the oracle changed it."""
    kept = [line for line in text.splitlines() if original is None or line not in set(original.splitlines())]
    whole = normalize(text)
    pieces = [whole] if original is None and len(whole) >= MIN_WHOLE_CHARS else []
    pieces += [normalize(line) for line in kept if len(normalize(line)) >= MIN_LINE_CHARS]
    leaves = _json_leaves(text) if original is None else None
    if leaves is None:
        numbers = _NUMBER.findall("\n".join(kept))
    else:
        numbers = [json.dumps(v) for v in leaves if isinstance(v, (int, float)) and not isinstance(v, bool)]
        pieces += [v for v in leaves if isinstance(v, str) and len(v) >= MIN_STRING_CHARS]
    pieces += [n for n in numbers if _significant_digits(n) >= MIN_NUMBER_DIGITS]
    return list(dict.fromkeys(pieces))


def _json_leaves(text: str) -> list | None:
    """The leaf values of a JSON document (None if `text` is not one)."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    found: list = []

    def walk(value) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        else:
            found.append(value)

    walk(data)
    return found


def _pattern(piece: str) -> re.Pattern:
    if _NUMBER.fullmatch(piece):
        return re.compile(r"(?<![\w.\-:/])" + re.escape(piece) + r"(?![\w\-:/]|\.\d)")
    return re.compile(re.escape(piece))


def find_leaks(outputs: dict[str, list[str]], sources: list[Source]) -> list[str]:
    """One line per (piece, source) where a piece of an output shows up in a source not named as input.

    `outputs`: output path -> its pieces.
    """
    texts = [(s, normalize(s.text)) for s in sources]
    found: list[str] = []
    for path, pieces in outputs.items():
        for piece in pieces:
            pattern = _pattern(piece)
            has_digit = any(c.isdigit() for c in piece)
            hits = [s for s, text in texts if (has_digit or not s.spec) and pattern.search(text)]
            if any(s.named for s in hits):
                continue  # derivable from a named input
            for source in hits:
                shown = piece if len(piece) <= 60 else piece[:57] + "..."
                found.append(f"{shown!r} (from {path}) in {source.label}")
    return found


def copies(outputs: dict[str, str], originals: dict[str, str | None], sources: list[Source]) -> list[str]:
    """A file the agent can read that holds exactly a short output (too short to be a piece): a copy of the answer."""
    found = []
    for path, text in outputs.items():
        whole = normalize(text)
        if not whole or len(whole) >= MIN_WHOLE_CHARS or path in originals:
            continue
        found += [f"a copy of {path} ({whole!r}) in {s.label}" for s in sources
                  if not s.spec and s.label != "instruction.md" and not s.named and normalize(s.text) == whole]
    return found


# An answer offered as one of alternatives ("`pass` or `fail`", "pass/fail") is a format, not a leak;
# one that follows a verb asking for it ("write the word `ready`") is the specification.
_ALTERNATIVE = re.compile(r"(?:\bor\b|\||/|,)\W{0,3}$|^\W{0,3}(?:\bor\b|\||/|,)")
_ASKED_FOR = re.compile(r"\b(?:write|writes|written|print|prints|output|outputs|echo|echoes|contain|contains|"
                        r"containing|put|puts|save|saves|store|stores|reply|replies|respond|responds)\b(?:\W+\w+){0,4}\W*$",
                        re.IGNORECASE)


def stated_answers(outputs: dict[str, str], originals: dict[str, str | None], sources: list[Source]) -> list[str]:
    """Outputs whose whole text the instruction states, in a task with an input to derive them from."""
    if not any(s.named for s in sources):
        return []  # no input: the instruction is the whole specification ("write hello")
    found = []
    for source in (s for s in sources if s.spec):
        text = normalize(source.text)
        for path, output in outputs.items():
            whole = normalize(output)
            if len(whole) < 2 or path in originals:
                continue
            for match in re.finditer(r"(?<![\w.\-])" + re.escape(whole) + r"(?![\w\-]|\.\w)", text):
                before, after = text[max(0, match.start() - 6):match.start()], text[match.end():match.end() + 6]
                asked = _ASKED_FOR.search(text[max(0, match.start() - 60):match.start()])
                if not (asked or _ALTERNATIVE.search(before) or _ALTERNATIVE.search(after)):
                    found.append(f"the answer of {path} ({whole[:57]!r}) stated in {source.label}")
                    break
    return found


def _text(path: Path) -> str | None:
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if b"\0" in data:
        return None
    return data.decode("utf-8", errors="replace")


def _is_named(relative: str, instruction: str) -> bool:
    """Whether the instruction names a context file: by its path in environment/, or a folder of it named as
    a folder with no hidden part below."""
    parts = relative.split("/")
    folders = ["/".join(parts[:i]) for i in range(1, len(parts))]
    return (bool(re.search(r"(?<![\w.\-])" + re.escape(relative) + r"(?![\w.\-])", instruction))
            or any(_names_folder([f], relative[len(f) + 1:], instruction) for f in folders))


def _names_folder(spellings: list[str], below: str, instruction: str) -> bool:
    """A folder is mentioned on its own (one of `spellings`), not only as the start of a longer path, and
    nothing on the way `below` it to the file is hidden."""
    if any(part.startswith(".") for part in below.split("/")):
        return False
    return any(re.search(r"(?<![\w.\-])" + re.escape(f) + r"/?(?![\w.\-/])", instruction) for f in spellings if f)


def visible_sources(task_dir: Path, instruction: str, workdir: str, layer_dir: Path | None) -> list[Source]:
    """instruction.md, the build context files, and (when known) the built image's own files."""
    sources = [Source(label="instruction.md", text=instruction, spec=True)]
    budget = MAX_SCANNED_BYTES
    context = task_dir / "environment"
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        relative = path.relative_to(context).as_posix()
        text = _text(path)
        if text is not None and budget > 0:
            budget -= len(text)
            named = relative != "Dockerfile" and _is_named(relative, instruction)
            sources.append(Source(label=f"environment/{relative}", text=text, named=named))
    if layer_dir is not None and layer_dir.is_dir():
        for image_path, path in layer_files(layer_dir):
            if image_path.split("/")[1] in _HIDDEN_FROM_AGENT or budget <= 0:
                continue
            text = _text(path)
            if text is not None:
                budget -= len(text)
                folders = [image_path.rsplit("/", i)[0] for i in range(1, image_path.count("/"))]
                named = named_in(image_path, instruction, workdir) or any(
                    _image_folder_named(f, image_path, instruction, workdir) for f in folders if f)
                sources.append(Source(label=f"image {image_path}", text=text, named=named))
    return sources


def _image_folder_named(folder: str, path: str, instruction: str, workdir: str) -> bool:
    """An image folder named as a folder: as written, or relative to WORKDIR."""
    relative = posixpath.relpath(folder, workdir) if workdir not in ("", "/") else folder.lstrip("/")
    spellings = [folder] + ([relative] if not relative.startswith("..") and relative != "." else [])
    return _names_folder(spellings, path[len(folder) + 1:], instruction)


def leak_gate(outputs: dict[str, str], originals: dict[str, str | None], sources: list[Source],
              *, image_scanned: bool) -> GateResult:
    """`outputs`: output path -> its text; `originals`: the text before the oracle, for files it changed."""
    pieces = {path: pieces_of(text, original=originals.get(path)) for path, text in outputs.items()}
    leaks = find_leaks(pieces, sources) + copies(outputs, originals, sources) + stated_answers(outputs, originals, sources)
    scope = "instruction, build context and image" if image_scanned else \
        "instruction and build context (this environment does not expose its image)"
    if leaks:
        more = f" (+{len(leaks) - 5} more)" if len(leaks) > 5 else ""
        return GateResult(name="leak", ok=False,
                          detail=f"the oracle's output is visible to the agent: {'; '.join(leaks[:5])}{more}; "
                                 "keep expected values under tests/ only, or derive them at verify time")
    count = sum(len(p) for p in pieces.values())
    return GateResult(name="leak", ok=True, detail=f"{count} piece(s) of {len(outputs)} output(s) not found in the {scope}")
