"""Gate `leak`: the oracle's outputs, or substantial pieces of them, are not where the agent can look.

What the agent sees: instruction.md, the environment's build context (Dockerfile included) and the
built image outside /tests and /solution (with the local sandbox: its built layer, the files the
Dockerfile added). Pieces of an output file: its whole text, each line of at least 16 characters,
each number with at least 4 significant digits, each JSON string of at least 8 characters (for a
file the oracle changed rather than created, only the lines it changed). Shorter pieces are too
common to mean anything ("hello", "42"), unless a file the agent can read holds exactly that output.

A piece also found in an input the instruction names (a file or a folder above it) is derivable,
not leaked: a task that extracts lines from a log legitimately outputs what the log holds. In the
instruction itself only pieces with a digit count: it must spell out headers, keys and fixed words
(`timestamp,sensor,temperature_c`), while a computed answer almost always holds a number.
"""

from __future__ import annotations

import json
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
    named: bool = False
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
                  if s.label != "instruction.md" and not s.named and normalize(s.text) == whole]
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
    """Whether the instruction names a context file by its path in environment/ or one of its folders."""
    parts = relative.split("/")
    candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    return any(re.search(r"(?<![\w.\-])" + re.escape(c) + r"(?![\w.\-])", instruction) for c in candidates)


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
                ancestors = [image_path.rsplit("/", i)[0] for i in range(image_path.count("/"))]
                named = any(named_in(a, instruction, workdir) for a in ancestors if a)
                sources.append(Source(label=f"image {image_path}", text=text, named=named))
    return sources


def leak_gate(outputs: dict[str, str], originals: dict[str, str | None], sources: list[Source],
              *, image_scanned: bool) -> GateResult:
    """`outputs`: output path -> its text; `originals`: the text before the oracle, for files it changed."""
    pieces = {path: pieces_of(text, original=originals.get(path)) for path, text in outputs.items()}
    leaks = find_leaks(pieces, sources) + copies(outputs, originals, sources)
    scope = "instruction, build context and image" if image_scanned else \
        "instruction and build context (this environment does not expose its image)"
    if leaks:
        more = f" (+{len(leaks) - 5} more)" if len(leaks) > 5 else ""
        return GateResult(name="leak", ok=False,
                          detail=f"the oracle's output is visible to the agent: {'; '.join(leaks[:5])}{more}; "
                                 "keep expected values under tests/ only, or derive them at verify time")
    count = sum(len(p) for p in pieces.values())
    return GateResult(name="leak", ok=True, detail=f"{count} piece(s) of {len(outputs)} output(s) not found in the {scope}")
