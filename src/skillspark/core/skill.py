"""A skill on disk: a folder holding a SKILL.md, and the `scripts/`, `references/`, `assets/` it uses.

Why one module: every area meets skills (the agent shows them, eval stages them, explore writes and
validates them, train retrieves them, the dashboard lists them), and a skill folder is input from anyone
(a library, a task author, a model's output). So how skill folders are found, how a SKILL.md is read and
which files of a skill are staged is decided here once, with one guard everywhere: links are never
followed (a SKILL.md linked to a root-only host file would otherwise be read out, staged into a sandbox
and sent to a model) and sizes are capped before anything is read whole (a 1 GiB sparse file would be
read and copied dense). Staging hashes what it copies, so a result names exactly the skill text its agent saw.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from skillspark.core.skillspec import check_skill_text
from skillspark.errors import UserError
from skillspark.files import regular_files

SKILL_FILE = "SKILL.md"
SKILL_SUBDIRS = ("scripts", "references", "assets")  # staged beside SKILL.md; nothing else of the folder is
MAX_SKILL_BYTES = 8 * 2**20  # one skill: its SKILL.md and scripts/references/assets together
_CHUNK = 2**20
_READ_SLACK = 4  # bytes read past a cap: enough to know a file is longer, and for a split UTF-8 character


class Problem(BaseModel):
    """One way a skill breaks the Agent Skills spec: the skill's folder, the field, what is wrong."""

    skill: str
    field: str
    message: str


class SkillText(BaseModel):
    """A SKILL.md as read: its skill's name, its size in bytes and (at most the cap of) its text."""

    name: str
    size: int
    text: str


class Skill(BaseModel):
    """One skill folder; its name is the folder's name, as the spec requires of the frontmatter's `name`."""

    model_config = ConfigDict(frozen=True)

    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def skill_md(self) -> Path:
        return self.path / SKILL_FILE

    def read(self, max_chars: int | None = None) -> SkillText | None:
        """The SKILL.md as text (up to `max_chars` characters, undecodable bytes replaced); None as `read_bytes`."""
        found = self.read_bytes(None if max_chars is None else byte_cap(max_chars))
        if found is None:
            return None
        size, data = found
        return SkillText(name=self.name, size=size, text=data.decode(errors="replace"))

    def read_bytes(self, max_bytes: int | None = None) -> tuple[int, bytes] | None:
        """(size on disk, up to `max_bytes` bytes) of the SKILL.md, opened without following a link.

        None when it is missing, a link or not a regular file: such a skill is left out, never followed.
        """
        try:  # no-follow open: a SKILL.md swapped for a link after a listing is still not read
            fd = os.open(self.skill_md, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ELOOP, errno.ENOTDIR):
                return None
            raise
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                return None
            return info.st_size, handle.read(-1 if max_bytes is None else max_bytes)

    def problems(self) -> list[Problem]:
        """What breaks the spec in this skill's SKILL.md; a missing, linked, unreadable or oversized one is one problem.

        Read up to just past `MAX_SKILL_BYTES`, never whole: a huge file is refused by its size.
        """
        try:
            found = self.read_bytes(MAX_SKILL_BYTES + 1)
        except OSError as exc:
            return [self._problem(SKILL_FILE, f"cannot be read ({exc.strerror})")]
        if found is None:
            exists = os.path.lexists(self.skill_md)
            return [self._problem(SKILL_FILE, "not a regular file (links are not followed)" if exists else "missing")]
        size, data = found
        if size > MAX_SKILL_BYTES:
            return [self._problem(SKILL_FILE, _over_cap(size))]
        return [self._problem(field, message)
                for field, message in check_skill_text(data.decode(errors="replace"), self.name)]

    def text(self) -> str:
        """The whole SKILL.md as text (undecodable bytes replaced), for a reader that needs all of it; a
        UserError when it is missing, a link, not a regular file or over the cap of one skill."""
        found = self.read_bytes(MAX_SKILL_BYTES + 1)
        if found is None:
            raise UserError(f"{self.skill_md} is missing, a link or not a regular file; skills are read only from "
                            "regular SKILL.md files (copy the file in place of the link)")
        size, data = found
        if size > MAX_SKILL_BYTES:
            raise UserError(f"{self.skill_md}: {_over_cap(size)}; shorten it")
        return data.decode(errors="replace")

    def _problem(self, field: str, message: str) -> Problem:
        return Problem(skill=str(self.path), field=field, message=message)

    def files(self) -> list[tuple[str, Path, int]]:
        """(staged relative path, source file, size) of this skill's own files, SKILL.md first.

        UserError when its SKILL.md is not a regular file (a link included) or the files are over MAX_SKILL_BYTES.
        """
        own = [(f"{self.name}/{SKILL_FILE}", self.skill_md, _regular_size(self.skill_md))]
        for sub in SKILL_SUBDIRS:
            own += [(f"{self.name}/{f.relative_to(self.path).as_posix()}", f, f.lstat().st_size)
                    for f in regular_files(self.path / sub)]
        total = sum(size for _, _, size in own)
        if total > MAX_SKILL_BYTES:
            _, biggest, size = max(own, key=lambda item: item[2])
            raise UserError(f"{self.path}: the skill's files hold {total:,} bytes, over the {MAX_SKILL_BYTES:,}-byte "
                            f"cap of one skill (largest: {biggest}, {size:,} bytes); remove or shrink it")
        return own


def _over_cap(size: int) -> str:
    return f"{size:,} bytes, over the {MAX_SKILL_BYTES:,}-byte cap of one skill"


def byte_cap(max_chars: int) -> int:
    """The bytes to read for `max_chars` characters: up to 4 a character in UTF-8, and a few to see a longer file."""
    return 4 * max_chars + _READ_SLACK


def holds_skill(folder: Path) -> bool:
    """A real folder (not a link) with an entry named SKILL.md, which is not followed if it is a link.

    A SKILL.md that is a link or not a regular file counts, so that the reader refuses or skips it by
    name (`Skill.read`, `Skill.files`) rather than the folder vanishing in silence.
    """
    return folder.is_dir() and not folder.is_symlink() and os.path.lexists(folder / SKILL_FILE)


def find_skills(root: Path) -> list[Skill]:
    """The skills at `root`: itself when it holds a SKILL.md, else each sub-folder that does, by name.

    One level only, the layout every agent reads (`skills/<name>/SKILL.md`): an explore output's jobs,
    memos and verifier files below a skill are never searched. Links to folders are left out. [] when
    `root` is not a folder or holds no skill; callers say what that means for their flag.
    """
    if holds_skill(root):
        return [Skill(path=root)]
    if not root.is_dir():
        return []
    return [Skill(path=p) for p in sorted(root.iterdir()) if holds_skill(p)]


def skill_dirs(root: Path) -> list[Path]:
    """The folders of `find_skills(root)` for a path a user gave; UserError saying what to pass when none."""
    if not root.is_dir():
        raise UserError(f"{root} is not a directory; pass a skill folder or a folder of skill folders")
    found = [skill.path for skill in find_skills(root)]
    if not found:
        raise UserError(f"no {SKILL_FILE} found in {root} or its sub-folders; pass a skill folder or a folder of "
                        f"skill folders ({root}/<name>/{SKILL_FILE})")
    return found


def skill_files(folders: list[Path]) -> list[tuple[str, Path, int]]:
    """`Skill.files` of each folder, sorted by staged path."""
    return sorted(entry for folder in folders for entry in Skill(path=folder).files())


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
        raise UserError(f"{path}: missing; a skill folder needs its {SKILL_FILE}") from None
    if stat.S_ISLNK(info.st_mode):
        raise UserError(f"{path}: a symbolic link; skill files are read only from regular files (links are never "
                        "followed); replace the link by a copy of the file")
    if not stat.S_ISREG(info.st_mode):
        raise UserError(f"{path}: not a regular file; a {SKILL_FILE} must be a plain text file")
    return info.st_size


def _chunks(path: Path, size: int) -> Iterator[bytes]:
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
