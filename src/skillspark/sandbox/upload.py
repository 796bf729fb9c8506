"""Copy files into a sandbox without running anything in it: the host writes, with its own code.

Harbor places `/tests` before verification (and `/solution`, skills, agent scripts) with
`upload_dir`/`upload_file`. These used to run the sandbox's own `sh`, `mkdir`, `cat` and `tar`,
which an agent-phase command can replace: a fake `tar` could write forged tests in place of the
real ones. Now the host opens the sandbox's root from outside (`/proc/<init>/root`, as the
copy-out in `download.py` does) and creates every directory and file itself with `openat`, one
component at a time and never following a link: a link planted on the way (`/tests` -> `/etc`, or
a directory inside the tree) makes the upload fail with a clear error instead of being followed.
An entry in the way of a file (a file, link or fifo the agent left there) is replaced, never
written through.

Ownership is what the old path produced: root of the sandbox. The host thread that writes takes
the sandbox root's host ids as its filesystem ids (`setfsuid`/`setfsgid`, per thread) for each
write, so files are created as the sandbox's root and with no more rights than it has, while the
sources (which may be private to the host user) are read with the host's own ids. Modes and mtimes
of a directory upload come from the source, as `tar` kept them; `upload_file` creates 0644.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

from skillspark.sandbox.download import DownloadError, copy_bytes, link_or_why, open_dir_creating, sandbox_parts
from skillspark.sandbox.idmap import IdMapping

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_libc = ctypes.CDLL(None, use_errno=True)


class UploadError(RuntimeError):
    """The target cannot be written without following a link (or another refusal), said in one line."""


@contextlib.contextmanager
def as_sandbox_root(mapping: IdMapping) -> Iterator[None]:
    """Make this thread's file operations those of the sandbox's root (its host ids); restored after."""
    old_uid = _libc.setfsuid(mapping.outside_uid)
    old_gid = _libc.setfsgid(mapping.outside_gid)
    try:
        if _libc.setfsuid(-1) != mapping.outside_uid or _libc.setfsgid(-1) != mapping.outside_gid:
            raise UploadError(f"cannot act as the sandbox's root (host id {mapping.outside_uid})")
        yield
    finally:
        _libc.setfsgid(old_gid)
        _libc.setfsuid(old_uid)


class _Writer:
    """One upload: host-side reads with the host's ids, sandbox-side writes as the sandbox's root."""

    def __init__(self, root_fd: int, mapping: IdMapping, target: str):
        self.root_fd, self.mapping, self.target = root_fd, mapping, target

    def refused(self, exc: OSError, where: str) -> UploadError:
        return UploadError(f"upload to {self.target} refused at {where}: {link_or_why(exc)}")

    def open_dir(self, parts: list[str]) -> int:
        """The target dir's fd, creating missing dirs; a link anywhere on the way is refused."""
        return self.open_dir_at(self.root_fd, parts, "/" + "/".join(parts))

    def fresh_file(self, dir_fd: int, name: str, mode: int | None, where: str) -> int:
        """A new empty file `name` (whatever non-directory was there is removed, never written through).

        mode None is `cat > target`'s rule: a regular file already there keeps its permission bits (an
        executable restored by the audit probe stays executable), anything else gets 0644.
        """
        with as_sandbox_root(self.mapping):
            try:
                replaced = _remove_non_dir(dir_fd, name)
                if mode is None:
                    kept = replaced is not None and stat.S_ISREG(replaced)
                    mode = stat.S_IMODE(replaced) & ~(stat.S_ISUID | stat.S_ISGID) if kept else 0o644
                fd = os.open(name, _NEW_FILE, mode, dir_fd=dir_fd)
                os.fchmod(fd, mode)  # exact, whatever the host process's umask
                return fd
            except OSError as exc:
                raise self.refused(exc, where) from None

    def copy_tree(self, source_fd: int, target_fd: int, where: str) -> None:
        with os.scandir(source_fd) as listing:
            names = sorted(entry.name for entry in listing)
        for name in names:
            info = os.stat(name, dir_fd=source_fd, follow_symlinks=False)
            path = f"{where}/{name}"
            if stat.S_ISDIR(info.st_mode):
                child_source = os.open(name, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=source_fd)
                try:
                    child_target = self.open_dir_at(target_fd, (name,), path)
                    try:
                        self.copy_tree(child_source, child_target, path)
                        self.finish(child_target, info)
                    finally:
                        os.close(child_target)
                finally:
                    os.close(child_source)
            elif stat.S_ISREG(info.st_mode):
                self.copy_file(os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=source_fd),
                               target_fd, name, path, info)
            elif stat.S_ISLNK(info.st_mode):  # kept as a link, as tar did (never followed by the host)
                self.link(os.readlink(name, dir_fd=source_fd), target_fd, name, path)

    def open_dir_at(self, parent_fd: int, parts, where: str) -> int:
        with as_sandbox_root(self.mapping):
            try:
                return open_dir_creating(parent_fd, parts)
            except OSError as exc:
                raise self.refused(exc, where) from None

    def copy_file(self, source: int, target_dir_fd: int, name: str, where: str, info: os.stat_result | None) -> None:
        try:
            sink = self.fresh_file(target_dir_fd, name, stat.S_IMODE(info.st_mode) if info else None, where)
            try:
                copy_bytes(source, sink, sys.maxsize)
                if info is not None:
                    self.finish(sink, info)
            finally:
                os.close(sink)
        finally:
            os.close(source)

    def link(self, points_to: str, dir_fd: int, name: str, where: str) -> None:
        with as_sandbox_root(self.mapping):
            try:
                _remove_non_dir(dir_fd, name)
                os.symlink(points_to, name, dir_fd=dir_fd)
            except OSError as exc:
                raise self.refused(exc, where) from None

    def finish(self, fd: int, info: os.stat_result) -> None:
        """The source's mode and mtime, as tar kept them."""
        with as_sandbox_root(self.mapping):
            os.fchmod(fd, stat.S_IMODE(info.st_mode))
            os.utime(fd, ns=(info.st_atime_ns, info.st_mtime_ns))


def _remove_non_dir(dir_fd: int, name: str) -> int | None:
    """Unlink whatever non-directory is at `name`; its st_mode, or None when nothing was there."""
    try:
        mode = os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, "a directory is in the way of a file")
    os.unlink(name, dir_fd=dir_fd)
    return mode


def _parts(target: str) -> list[str]:
    try:
        return sandbox_parts(target)
    except DownloadError as exc:
        raise UploadError(f"upload to {target} refused: {exc.why}") from None


def copy_file_in(root_fd: int, mapping: IdMapping, source: Path, target: str, *, keep_mode: bool = False) -> None:
    """Write the host file `source` to `target` inside the sandbox, owned by its root: a new file is 0644,
    a regular file replaced keeps its permission bits (as `cat > target` did); `keep_mode` gives it the
    source's mode and mtime instead (as a bind mount shows them)."""
    parts = _parts(target)
    if not parts:
        raise UploadError(f"upload to {target} refused: the target names no file")
    writer = _Writer(root_fd, mapping, target)
    source_fd = os.open(source, os.O_RDONLY | os.O_CLOEXEC)
    try:
        dir_fd = writer.open_dir(parts[:-1])
    except BaseException:
        os.close(source_fd)
        raise
    try:
        writer.copy_file(source_fd, dir_fd, parts[-1], target, os.fstat(source_fd) if keep_mode else None)
    finally:
        os.close(dir_fd)


def copy_dir_in(root_fd: int, mapping: IdMapping, source: Path, target: str) -> None:
    """Merge the host dir `source` into `target` inside the sandbox, as `tar -x` did (see module docstring)."""
    writer = _Writer(root_fd, mapping, target)
    source_fd = os.open(source, _DIR_FLAGS)
    try:
        target_fd = writer.open_dir(_parts(target))
        try:
            writer.copy_tree(source_fd, target_fd, target.rstrip("/"))
            writer.finish(target_fd, os.fstat(source_fd))
        finally:
            os.close(target_fd)
    finally:
        os.close(source_fd)
