"""What an eval trial is given: a copy of the task without its bundled skills; whether its agent read a skill.

The skill folders of an arm are staged by `core.skill.stage_skills`: only a skill's own files (SKILL.md
and its `scripts/`, `references/`, `assets/`), never an explore folder's trajectories, memos or verifier
output (the answers), links never followed, and hashed, so a result names exactly the skill text its
agent saw. A skill that cannot be staged refuses the eval before any trial runs.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

from skillspark.agents.skills import SKILLS_DIRS, strip_task_skills


def tree_sha256(root: Path, *, skip: Iterable[str] = ()) -> str:
    """sha256 over every regular file's relative path and bytes under `root` (sorted, links by target text)."""
    digest = hashlib.sha256()
    skipped = set(skip)
    for parent, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in skipped)
        for name in sorted(files):
            path = Path(parent, name)
            relative = path.relative_to(root).as_posix()
            data = os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
            digest.update(f"{relative}\0{len(data)}\0".encode())
            digest.update(data)
    return digest.hexdigest()


def prepare_task(task_dir: Path, dest_root: Path) -> Path:
    """The copy of `task_dir` every arm runs: bundled skills stripped, under `dest_root` (rebuilt each run)."""
    shutil.rmtree(dest_root, ignore_errors=True)
    dest_root.mkdir(parents=True)
    return strip_task_skills(task_dir, dest_root)


_ROOTS = "|".join(re.escape(d) for d in sorted(SKILLS_DIRS, key=len, reverse=True))


def skill_read(commands: list[str], skill_names: list[str]) -> bool:
    """Whether any command reads a staged skill file: a skills folder path followed by a staged name or a glob.

    `ls /skills` alone is not a read; `cat /skills/x/SKILL.md`, `cat /skills/*/SKILL.md` and
    `cd /root/.claude/skills/x` are.
    """
    if not skill_names:
        return False
    names = "|".join(re.escape(n) for n in sorted(skill_names, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w./-])(?:{_ROOTS})/+(?:(?:{names})(?![\w.-])|[*?\[])")
    return any(pattern.search(command) for command in commands)
