"""Gate `dedup`: a task is not a near copy of a reference task or of a task given before it.

Similarity is the Jaccard index of word 3-shingles (lowercased `\\w+` tokens) over what makes a
task itself: instruction.md, environment/Dockerfile and the Python test files (tests/test.sh only
when there is none). Shared verifier scaffolding (a runner script copied into every task) is left
out, or every task of a family would look alike. In a batch the first of two near copies is kept
and the later one is rejected, as a generator keeps the first instance it made.
"""

from __future__ import annotations

import re
from pathlib import Path

from skillspark.taskgen.gates.models import GateResult
from skillspark.taskgen.gates.schema import python_test_files

THRESHOLD = 0.8
SHINGLE = 3
_TOKEN = re.compile(r"\w+")


def shingles(text: str, size: int = SHINGLE) -> set[tuple[str, ...]]:
    """Word `size`-grams of `text`; a text shorter than `size` words is one shingle of all its words."""
    tokens = _TOKEN.findall(text.lower())
    if len(tokens) < size:
        return {tuple(tokens)} if tokens else set()
    return {tuple(tokens[i:i + size]) for i in range(len(tokens) - size + 1)}


def jaccard(a: set, b: set) -> float:
    """|a ∩ b| / |a ∪ b|; two empty sets are 0 (nothing to call a copy)."""
    union = a | b
    return len(a & b) / len(union) if union else 0.0


def task_text(task_dir: Path) -> str:
    parts = [task_dir / "instruction.md", task_dir / "environment" / "Dockerfile"]
    parts += python_test_files(task_dir) or [task_dir / "tests" / "test.sh"]
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in parts if p.is_file())


def task_shingles(task_dir: Path) -> set[tuple[str, ...]]:
    return shingles(task_text(task_dir))


def dedup_gate(task_dir: Path, others: list[Path]) -> GateResult:
    """Compare `task_dir` with `others` (references, and the tasks before it in a batch)."""
    mine = task_shingles(task_dir)
    scored = [(jaccard(mine, task_shingles(other)), other) for other in others
              if other.resolve() != task_dir.resolve()]
    if not scored:
        return GateResult(name="dedup", ok=True, detail="no other task to compare with")
    best, nearest = max(scored, key=lambda pair: pair[0])
    if best >= THRESHOLD:
        return GateResult(name="dedup", ok=False,
                          detail=f"similarity {best:.2f} to {nearest} (threshold {THRESHOLD}); "
                                 "make the task differ in substance or drop it")
    return GateResult(name="dedup", ok=True, detail=f"highest similarity {best:.2f} ({nearest.name}) of {len(scored)} task(s)")
