"""Output folder names of a run's tasks: one per task, the same for the same task paths in every run.

A task's folder (and the name of its skill, which the Agent Skills spec ties to the folder) is its task
name as a skill name. Tasks of one run that share that name would write into one folder, so those, and
only those, get `-<first 8 hex of sha256(resolved task path)>`: a run without a clash keeps the plain
names earlier runs used, and `--resume` over the same task paths finds the same folders.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import TYPE_CHECKING

from skillspark.core.skillspec import MAX_NAME
from skillspark.explore.distill import skill_name

if TYPE_CHECKING:
    from skillspark.harbor.tasks import TaskInfo

DIGEST_CHARS = 8


def task_folders(tasks: list[TaskInfo]) -> list[str]:
    """One folder name per task, in order; see the module docstring."""
    plain = [skill_name(task.name) for task in tasks]
    counts = Counter(plain)
    return [name if counts[name] == 1 else _suffixed(name, task) for name, task in zip(plain, tasks, strict=True)]


def _suffixed(name: str, task: TaskInfo) -> str:
    digest = hashlib.sha256(str(task.path.resolve()).encode()).hexdigest()[:DIGEST_CHARS]
    return f"{name[: MAX_NAME - DIGEST_CHARS - 1].rstrip('-')}-{digest}"
