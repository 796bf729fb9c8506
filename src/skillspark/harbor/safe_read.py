"""Reading files a sandboxed agent could have tampered with, without ever following a link.

Why: a trial dir's `agent/` and `verifier/` folders are the sandbox's `/logs`. An agent command can plant
`ln -sf /home/me/.ssh/id_rsa /logs/verifier/test-stdout.txt` (or a symlinked `verifier/` folder, a FIFO
that blocks an open, a hard link, a huge file); a host that read it would copy a host file into the
trajectory and send it to a model. Every host read under a trial dir goes through `TrialReader`: each
folder on the way is opened with O_NOFOLLOW|O_DIRECTORY relative to the previous one, the file itself
with O_NOFOLLOW|O_NONBLOCK, and only a regular file with a single link is read, up to a size bound.
What is refused is recorded in `skipped` ("verifier/ctrf.json: a symbolic link") for the caller to show.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path, PurePosixPath
from typing import Any

DEFAULT_MAX_BYTES = 8 * 2**20
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class _Refused(Exception):
    """An entry that exists but must not be read; the message says why."""


class TrialReader:
    """Reads regular files under `root` (a trial dir) by relative path; refusals go to `skipped`."""

    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.skipped: list[str] = []

    def text_tail(self, relative: str, max_chars: int) -> str:
        """The last `max_chars` characters of a text file; '' when absent or refused."""
        data = self._read(relative, max_chars * 4, tail=True)
        return data.decode("utf-8", errors="replace")[-max_chars:] if data else ""

    def text(self, relative: str, max_bytes: int = DEFAULT_MAX_BYTES) -> str | None:
        """A whole text file; None when absent, refused or larger than `max_bytes`."""
        data = self._read(relative, max_bytes, tail=False)
        return None if data is None else data.decode("utf-8", errors="replace")

    def json(self, relative: str, max_bytes: int = DEFAULT_MAX_BYTES) -> Any | None:
        """A parsed JSON file; None when absent, refused, too large or not JSON."""
        text = self.text(relative, max_bytes)
        if text is None:
            return None
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            return None

    def refused(self, relative: str) -> bool:
        """Whether an entry exists but may not be read (recorded in `skipped`); an absent one is not refused."""
        try:
            os.close(self._open_file(relative))
        except _Refused as why:
            self._skip(relative, str(why))
            return True
        except OSError:
            pass
        return False

    def file_names(self, relative_dir: str, suffix: str) -> list[str]:
        """Relative paths of the entries of a folder whose names end with `suffix`, sorted (not yet checked)."""
        try:
            fd = self._open_dir(_parts(relative_dir), relative_dir)
        except _Refused as why:
            self._skip(relative_dir, str(why))
            return []
        except OSError:
            return []
        try:
            names = sorted(name for name in os.listdir(fd) if name.endswith(suffix))
        finally:
            os.close(fd)
        return [str(PurePosixPath(relative_dir, name)) for name in names]

    def _read(self, relative: str, max_bytes: int, *, tail: bool) -> bytes | None:
        try:
            fd = self._open_file(relative)
        except _Refused as why:
            self._skip(relative, str(why))
            return None
        except OSError:
            return None
        try:
            size = os.fstat(fd).st_size
            if size > max_bytes and not tail:
                self._skip(relative, f"larger than {max_bytes} bytes")
                return None
            if tail and size > max_bytes:
                os.lseek(fd, size - max_bytes, os.SEEK_SET)
            return _read_at_most(fd, max_bytes)
        finally:
            os.close(fd)

    def _open_file(self, relative: str) -> int:
        parts = _parts(relative)
        parent = self._open_dir(parts[:-1], relative)
        try:
            try:
                fd = os.open(parts[-1], _FILE_FLAGS, dir_fd=parent)
            except OSError as exc:
                raise _refusal(exc, parent, parts[-1], "a symbolic link") from None
        finally:
            os.close(parent)
        info = os.fstat(fd)
        reason = None
        if not stat.S_ISREG(info.st_mode):
            reason = "not a regular file"
        elif info.st_nlink > 1:
            reason = "a hard link to another file"
        if reason:
            os.close(fd)
            raise _Refused(reason)
        return fd

    def _open_dir(self, parts: list[str], relative: str) -> int:
        """The folder at `parts` under root, each step opened without following a link."""
        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        for name in parts:
            try:
                child = os.open(name, _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                raise _refusal(exc, fd, name, "a symbolic link in its path") from None
            finally:
                os.close(fd)
            fd = child
        return fd

    def _skip(self, relative: str, reason: str) -> None:
        line = f"{relative}: {reason}"
        if line not in self.skipped:
            self.skipped.append(line)


def _parts(relative: str) -> list[str]:
    """Path components of a relative path; '..' or an absolute path is a caller bug, not agent input."""
    parts = [p for p in PurePosixPath(relative).parts if p not in ("", ".")]
    if not parts or PurePosixPath(relative).is_absolute() or ".." in parts:
        raise ValueError(f"not a plain relative path: {relative!r}")
    return parts


def _refusal(exc: OSError, dir_fd: int, name: str, link_reason: str) -> OSError | _Refused:
    """ELOOP/ENOTDIR from an O_NOFOLLOW open mean a link or a non-folder was found: refuse; else re-raise."""
    if exc.errno not in (errno.ELOOP, errno.ENOTDIR, errno.ENXIO):
        return exc
    try:
        mode = os.lstat(name, dir_fd=dir_fd).st_mode
    except OSError:
        return exc
    if stat.S_ISLNK(mode):
        return _Refused(link_reason)
    return _Refused("not a regular file" if exc.errno != errno.ENOTDIR else "a path through a non-folder")


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    left = limit
    while left > 0:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
