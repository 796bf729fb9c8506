"""What an eval trial is given: a copy of the task without its bundled skills, and the skill folders of its arm.

Why a copy of only the skill's own files: an explore output folder also holds trajectories, memos,
verifier output, jobs and attempts.json, i.e. the answers. Staging takes SKILL.md and the `scripts/`,
`references/`, `assets/` it has (regular files only, no links) and nothing else, and hashes what it
staged, so a result line names exactly the skill text its agent saw.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

from skillspark.agents.skills import SKILLS_DIRS, strip_task_skills

SKILL_FILE = "SKILL.md"
SKILL_SUBDIRS = ("scripts", "references", "assets")


def skill_files(folders: list[Path]) -> list[tuple[str, Path]]:
    """(staged relative path, source file) of each folder's own skill files, sorted by staged path."""
    files = []
    for folder in folders:
        files.append((f"{folder.name}/{SKILL_FILE}", folder / SKILL_FILE))
        for sub in SKILL_SUBDIRS:
            files += [(f"{folder.name}/{f.relative_to(folder).as_posix()}", f) for f in _regular_files(folder / sub)]
    return sorted(files)


def skills_sha256(folders: list[Path]) -> str | None:
    """sha256 of what `stage_skills` stages from `folders` (None for none), without copying anything."""
    if not folders:
        return None
    digest = hashlib.sha256()
    for relative, source in skill_files(folders):
        data = source.read_bytes()
        digest.update(f"{relative}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def stage_skills(folders: list[Path], dest: Path) -> str | None:
    """Copy each folder's own skill files to `dest/<folder name>/`; the sha256 of what was staged.

    `dest` is emptied first; an empty `folders` stages nothing and returns None.
    """
    shutil.rmtree(dest, ignore_errors=True)
    if not folders:
        return None
    for relative, source in skill_files(folders):
        copy = dest / relative
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, copy)
    return skills_sha256(folders)


def _regular_files(root: Path) -> list[Path]:
    """Regular files under `root`, links (to files or folders) left out."""
    if root.is_symlink() or not root.is_dir():
        return []
    found = []
    for parent, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not os.path.islink(os.path.join(parent, d)))
        paths = (Path(parent, f) for f in sorted(files))
        found += [path for path in paths if path.is_file() and not path.is_symlink()]
    return found


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
