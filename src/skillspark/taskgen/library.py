"""A searchable library of existing tasks: BM25 over each task's instruction, Dockerfile and tests.

Why kept on disk: a library of hundreds of tasks (SkillsBench, Terminal-Bench) is read once; the index
(token counts per task, keyed by a digest of the files read) lives in the cache folder and only tasks
whose files changed are read again. Retrieved tasks become the blueprint's references (shown to the model
and handed to the dedup gate), and which ones were picked, with scores, is recorded in the run.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from pathlib import Path

from pydantic import BaseModel

from skillspark.errors import UserError
from skillspark.files import write_atomic
from skillspark.harbor.tasks import find_task_dirs

K1, B = 1.5, 0.75  # BM25's usual constants
_MAX_CHARS = 20_000  # per file: enough for any instruction or test file, bounded for a stray data file
_TOKEN = re.compile(r"\w+")


class Reference(BaseModel):
    """A retrieved (or pinned) task."""

    name: str
    path: str
    score: float | None = None  # None: pinned with --reference-task


class _Entry(BaseModel):
    digest: str
    terms: dict[str, int]
    length: int


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def task_text(task_dir: Path) -> str:
    """What a task is indexed by: instruction, Dockerfile and test files (each bounded)."""
    parts = [task_dir / "instruction.md", task_dir / "environment" / "Dockerfile"]
    tests = task_dir / "tests"
    if tests.is_dir():
        parts += sorted(p for p in tests.iterdir() if p.suffix in (".py", ".sh") and p.is_file())
    texts = []
    for path in parts:
        try:
            texts.append(path.read_text(encoding="utf-8", errors="replace")[:_MAX_CHARS])
        except OSError:
            continue
    return "\n".join(texts)


class TaskLibrary:
    """BM25 over the tasks found under `root`, indexed into `index_path` (updated in place)."""

    def __init__(self, root: Path, index_path: Path) -> None:
        if not root.is_dir():
            raise UserError(f"--library {root}: not a directory; pass a folder of Harbor task folders")
        self.root = root
        self.index_path = index_path
        self.entries = self._load()

    def _load(self) -> dict[str, _Entry]:
        old: dict[str, _Entry] = {}
        if self.index_path.is_file():
            try:
                old = {k: _Entry.model_validate(v) for k, v in json.loads(self.index_path.read_text()).items()}
            except (ValueError, TypeError, AttributeError):
                old = {}  # a damaged index is only a cache: rebuild it
        entries: dict[str, _Entry] = {}
        for task in find_task_dirs([self.root]):
            text = task_text(task)
            digest = hashlib.sha256(text.encode()).hexdigest()
            key = str(task.resolve())
            if key in old and old[key].digest == digest:
                entries[key] = old[key]
            else:
                counts = Counter(tokens(text))
                entries[key] = _Entry(digest=digest, terms=dict(counts), length=sum(counts.values()))
        if entries != old:
            write_atomic(self.index_path, json.dumps({k: v.model_dump() for k, v in entries.items()}),
                         make_parents=True)
        return entries

    def search(self, query: str, k: int = 3, exclude: set[str] = frozenset()) -> list[Reference]:
        """The k best tasks by BM25 score (> 0), best first; ties broken by path."""
        entries = {p: e for p, e in self.entries.items() if p not in exclude}
        if not entries:
            return []
        n = len(entries)
        average = sum(e.length for e in entries.values()) / n or 1.0
        terms = set(tokens(query))
        frequency = {t: sum(t in e.terms for e in entries.values()) for t in terms}
        scored = []
        for path, entry in entries.items():
            score = 0.0
            for term in terms:
                tf = entry.terms.get(term, 0)
                if tf:
                    idf = math.log(1 + (n - frequency[term] + 0.5) / (frequency[term] + 0.5))
                    score += idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * entry.length / average))
            if score > 0:
                scored.append((-score, path))
        return [Reference(name=Path(p).name, path=p, score=round(-s, 4)) for s, p in sorted(scored)[:k]]


def index_path_for(cache_dir: Path, library: Path) -> Path:
    """One index file per library folder, in the cache."""
    key = hashlib.sha256(str(library.resolve()).encode()).hexdigest()[:16]
    return cache_dir / "taskgen-library" / f"{key}.json"
