"""Gate `mutants`: wrong versions of the oracle's outputs must fail the verifier.

From the oracle's final state each output file is replaced in turn by a mutant and the verifier
runs again; a mutant that still scores 1.0 survived, which means the tests do not check that part
of the work. Mutants of a data file: emptied, truncated (first half), one value changed (JSON: the
first leaf; text: the first number, else the first word, outside comment lines), one line dropped
(JSON: the last key or element; text: the last line that is not blank or a comment). Code files
(a source extension or a `#!` line) get only the first two: changing a value or dropping a line
of a program often yields an equivalent program (a comment, a redundant statement) that no test
could tell apart, which says nothing about the tests.
"""

from __future__ import annotations

import json
import re
from typing import Literal

from pydantic import BaseModel

from skillspark.taskgen.gates.models import GateResult

MutantKind = Literal["emptied", "truncated", "value_changed", "line_dropped"]
CODE_SUFFIXES = {".py", ".sh", ".bash", ".js", ".ts", ".rb", ".pl", ".go", ".rs", ".c", ".h", ".cc", ".cpp",
                 ".java", ".r", ".lua", ".php", ".awk", ".sql"}
_NUMBER = re.compile(rb"\d+")
_WORD = re.compile(rb"[A-Za-z]+")
_COMMENT = (b"#", b"//", b"--", b";")


class Mutant(BaseModel):
    kind: MutantKind
    content: bytes


class MutantOutcome(BaseModel):
    """One mutant of one output file and what the verifier gave it."""

    path: str
    kind: MutantKind
    reward: float | None = None
    error: str | None = None  # the verifier failed (no reward): the mutant was rejected too

    @property
    def survived(self) -> bool:
        return self.reward is not None and self.reward >= 1.0


def is_code(path: str, content: bytes) -> bool:
    suffix = path[path.rfind("."):].lower() if "." in path.rsplit("/", 1)[-1] else ""
    return suffix in CODE_SUFFIXES or content.startswith(b"#!")


def mutants_of(path: str, content: bytes) -> list[Mutant]:
    """The distinct mutants of one output file (none equal to the original)."""
    candidates: list[Mutant] = [Mutant(kind="emptied", content=b""),
                                Mutant(kind="truncated", content=content[: len(content) // 2])]
    if not is_code(path, content):
        data = _json(content)
        if data is not None:
            changed, dropped = _json_value_changed(data), _json_dropped(data)
            indent = 2 if b"\n" in content.strip() else None
            for kind, value in (("value_changed", changed), ("line_dropped", dropped)):
                if value is not None:
                    candidates.append(Mutant(kind=kind, content=json.dumps(value, indent=indent).encode() + b"\n"))
        else:
            for kind, mutated in (("value_changed", _text_value_changed(content)),
                                  ("line_dropped", _text_line_dropped(content))):
                if mutated is not None:
                    candidates.append(Mutant(kind=kind, content=mutated))
    seen = {content}
    distinct = []
    for mutant in candidates:
        if mutant.content not in seen:
            seen.add(mutant.content)
            distinct.append(mutant)
    return distinct


def _json(content: bytes):
    try:
        data = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, (dict, list)) else None


def _changed_leaf(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    if isinstance(value, str):
        bumped = _text_value_changed(value.encode())
        return bumped.decode() if bumped is not None else value + "x"
    return 0  # null


def _json_value_changed(data):
    """A copy of `data` with its first leaf (depth first, document order) changed."""
    if isinstance(data, dict):
        for key, value in data.items():
            changed = _json_value_changed(value) if isinstance(value, (dict, list)) else _changed_leaf(value)
            if changed is not None:
                return {**data, key: changed}
        return None
    for index, value in enumerate(data):
        changed = _json_value_changed(value) if isinstance(value, (dict, list)) else _changed_leaf(value)
        if changed is not None:
            return [*data[:index], changed, *data[index + 1:]]
    return None


def _json_dropped(data):
    if not data:
        return None
    if isinstance(data, dict):
        last = list(data)[-1]
        return {k: v for k, v in data.items() if k != last}
    return data[:-1]


def _content_lines(content: bytes) -> list[int]:
    """Indexes of the lines (split keeping ends) that are neither blank nor comments."""
    lines = content.splitlines(keepends=True)
    return [i for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith(_COMMENT)]


def _text_value_changed(content: bytes) -> bytes | None:
    """The first number (+1), else the first word (+"x"), on a content line; binary data: one byte flipped."""
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        middle = len(content) // 2
        return content[:middle] + bytes([content[middle] ^ 0xFF]) + content[middle + 1:]
    lines = content.splitlines(keepends=True)
    indexes = _content_lines(content) or range(len(lines))
    for pattern, change in ((_NUMBER, lambda m: str(int(m) + 1).encode()), (_WORD, lambda m: m + b"x")):
        for i in indexes:
            match = pattern.search(lines[i])
            if match:
                line = lines[i]
                lines[i] = line[: match.start()] + change(match.group()) + line[match.end():]
                return b"".join(lines)
    return None


def _text_line_dropped(content: bytes) -> bytes | None:
    lines = content.splitlines(keepends=True)
    indexes = _content_lines(content)
    if len(lines) < 2 or not indexes:
        return None  # a one-line file dropped is the emptied mutant
    drop = indexes[-1]
    return b"".join(lines[:drop] + lines[drop + 1:])


def mutants_gate(outcomes: list[MutantOutcome], outputs: list[str], notes: list[str]) -> GateResult:
    """Judge the mutants the probe ran; `outputs` are the oracle's output files, `notes` what it skipped."""
    extra = f"; {'; '.join(notes)}" if notes else ""
    if not outputs:
        return GateResult(name="mutants", ok=False,
                          detail=f"the oracle wrote no output file outside the system dirs; nothing to mutate{extra}")
    survivors = [o for o in outcomes if o.survived]
    files = len({o.path for o in outcomes})
    if survivors:
        listed = ", ".join(f"{o.path} {o.kind.replace('_', ' ')}" for o in survivors)
        return GateResult(name="mutants", ok=False,
                          detail=f"{len(survivors)} of {len(outcomes)} mutant(s) still pass the tests: {listed}; "
                                 f"make the tests check that content{extra}")
    return GateResult(name="mutants", ok=True,
                      detail=f"all {len(outcomes)} mutant(s) of {files} output file(s) rejected{extra}")
