"""What an eval trial is given: a copy of the task without its bundled skills, and the skill folders of its arm.

Why a copy of only the skill's own files: an explore output folder also holds trajectories, memos,
verifier output, jobs and attempts.json, i.e. the answers. Staging takes SKILL.md and the `scripts/`,
`references/`, `assets/` it has (regular files only, no links) and nothing else, and hashes what it
staged, so a result line names exactly the skill text its agent saw.

Why links are never followed, and a size cap: a skill folder is input from anyone (a library, a task
author). A `SKILL.md` that is a link to a root-only host file would otherwise be copied out, staged into
the sandbox and sent to the model; a 1 GiB (sparse) file would be read whole and copied dense. So a
SKILL.md that is not a regular file, or a skill whose files exceed `MAX_SKILL_BYTES`, refuses the eval
before any trial runs (one `error:` line naming the file); files are opened with O_NOFOLLOW and read
in chunks, and a file that grows past what was checked while it is copied stops the copy.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
from collections.abc import Iterable
from pathlib import Path

from skillspark.agents.skills import SKILLS_DIRS, strip_task_skills
from skillspark.errors import UserError

SKILL_FILE = "SKILL.md"
SKILL_SUBDIRS = ("scripts", "references", "assets")
MAX_SKILL_BYTES = 8 * 2**20  # one skill: its SKILL.md and scripts/references/assets together
_CHUNK = 2**20


def skill_files(folders: list[Path]) -> list[tuple[str, Path, int]]:
    """(staged relative path, source file, size) of each folder's own skill files, sorted by staged path.

    UserError when a SKILL.md is not a regular file (a link included) or a skill is over MAX_SKILL_BYTES.
    """
    files = []
    for folder in folders:
        skill = folder / SKILL_FILE
        own = [(f"{folder.name}/{SKILL_FILE}", skill, _regular_size(skill))]
        for sub in SKILL_SUBDIRS:
            own += [(f"{folder.name}/{f.relative_to(folder).as_posix()}", f, f.lstat().st_size)
                    for f in _regular_files(folder / sub)]
        total = sum(size for _, _, size in own)
        if total > MAX_SKILL_BYTES:
            _, biggest, size = max(own, key=lambda item: item[2])
            raise UserError(f"{folder}: the skill's files hold {total:,} bytes, over the {MAX_SKILL_BYTES:,}-byte cap "
                            f"of one skill (largest: {biggest}, {size:,} bytes); remove or shrink it")
        files += own
    return sorted(files)


def skills_sha256(folders: list[Path]) -> str | None:
    """sha256 of what `stage_skills` stages from `folders` (None for none), without copying anything."""
    if not folders:
        return None
    digest = hashlib.sha256()
    for relative, source, size in skill_files(folders):
        digest.update(f"{relative}\0{size}\0".encode())
        for chunk in _chunks(source, size):
            digest.update(chunk)
    return digest.hexdigest()


def stage_skills(folders: list[Path], dest: Path) -> str | None:
    """Copy each folder's own skill files to `dest/<folder name>/`; the sha256 of what was staged.

    `dest` is emptied first; an empty `folders` stages nothing and returns None. The digest is taken
    over the bytes copied, so it names exactly what the agent gets.
    """
    shutil.rmtree(dest, ignore_errors=True)
    if not folders:
        return None
    digest = hashlib.sha256()
    for relative, source, size in skill_files(folders):
        copy = dest / relative
        copy.parent.mkdir(parents=True, exist_ok=True)
        digest.update(f"{relative}\0{size}\0".encode())
        with copy.open("wb") as out:
            for chunk in _chunks(source, size):
                digest.update(chunk)
                out.write(chunk)
    return digest.hexdigest()


def _regular_size(path: Path) -> int:
    """The size of `path` when it is a regular file and not a link; UserError otherwise."""
    try:
        info = path.lstat()
    except OSError:
        raise UserError(f"{path}: missing; a skill folder needs its SKILL.md") from None
    if stat.S_ISLNK(info.st_mode):
        raise UserError(f"{path}: a symbolic link; skill files are read only from regular files (links are never "
                        "followed); replace the link by a copy of the file")
    if not stat.S_ISREG(info.st_mode):
        raise UserError(f"{path}: not a regular file; a SKILL.md must be a plain text file")
    return info.st_size


def _chunks(path: Path, size: int):
    """The bytes of `path` (opened without following a link, never blocking on a FIFO), exactly `size` of them.

    UserError when the file became a link or something else since it was checked, or changed size.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        raise UserError(f"{path}: cannot be read ({exc.strerror}); skill files must be regular files, not links") \
            from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UserError(f"{path}: not a regular file; skill files must be plain files")
        left = size
        while chunk := handle.read(min(_CHUNK, left + 1)):
            left -= len(chunk)
            if left < 0:
                break
            yield chunk
    if left != 0:
        raise UserError(f"{path}: changed size while it was read; stop what writes it and run again")


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
