"""Putting a finished task where users look: accepted into DIR/, rejected into DIR/_rejected/ with why.

Both go through a staging copy beside the target and one rename, so a reader (or a crash) sees the
whole task or none of it, and rejected tasks never sit among accepted ones.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from skillspark.files import write_atomic

REJECTED_DIR = "_rejected"
REJECTION_FILE = "REJECTED.json"


def free_name(output: Path, name: str, taken: set[str] = frozenset()) -> str:
    """`name`, or `name-2`, `name-3`, ... whichever is not yet in `output` nor in `taken`."""
    target, k = name, 2
    while target in taken or (output / target).exists():
        target, k = f"{name}-{k}", k + 1
    return target


def place_task(source: Path, target: Path, tag: str) -> None:
    """Copy `source` to a staging name beside `target`, then rename it into place."""
    staging = target.parent / f".{target.name}.{tag}.tmp"
    if staging.exists():
        shutil.rmtree(staging)  # left by a crash: redo it
    shutil.copytree(source, staging)
    os.rename(staging, target)


def place_rejected(output: Path, name: str, source: Path | None, record: dict[str, Any], tag: str) -> Path:
    """`output/_rejected/<name>/`: the last rendered task (if any) plus REJECTED.json; replaces an older one."""
    target = output / REJECTED_DIR / name
    staging = target.parent / f".{name}.{tag}.tmp"
    if staging.exists():
        shutil.rmtree(staging)
    if source is not None:
        shutil.copytree(source, staging)
    write_atomic(staging / REJECTION_FILE, json.dumps(record, indent=2, ensure_ascii=False), make_parents=True)
    if target.exists():
        shutil.rmtree(target)
    os.rename(staging, target)
    return target
