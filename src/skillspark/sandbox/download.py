"""Copy files out of a sandbox without trusting anything in it: the host reads, with its own code.

Nothing inside the sandbox takes part. The host opens the sandbox's root from outside
(`/proc/<init>/root`, see `Sandbox.root_fd`) and walks it with `openat`, one component at a time
and never following a link, so the sandbox's own `tar` or `head` (which a solution can replace,
along with `/etc/ld.so.preload`) cannot lie about sizes, forge entries or redirect the walk.
(Before: a fake `head` wrote 300 MiB past the cap, a fake `tar` made the host create 40,002 entries
from a tiny stream, and `/logs/agent` replaced by a link to `/` copied the host's root out.)

Kept: regular files and directories. Skipped and reported: links (a planted link must not make
the host, its judge or summarizer read a host file of the sandbox's choosing), fifos, sockets and
devices (never opened: a fifo would block), names that climb out. Every copy is capped on the
host side: bytes (a file is cut at the cap), entries looked at, and depth. A file the host wrote
itself is never replaced (the agent's own trajectory, say); a file an earlier download wrote is
updated, as Harbor copies logs more than once.
"""

from __future__ import annotations

import errno
import itertools
import logging
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MAX_DOWNLOAD_BYTES = 256 << 20  # per copy (a directory with everything in it, or one file)
MAX_DOWNLOAD_ENTRIES = 10_000  # entries looked at per directory copy (files, dirs and skipped ones)
MAX_DOWNLOAD_DEPTH = 32
_CHUNK = 1 << 20
HOST_HAS_IT = "the host already has this file"
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_log = logging.getLogger(__name__)


class DownloadError(RuntimeError):
    """The source itself cannot be copied out (missing, a link, not a directory or file)."""

    def __init__(self, path: str, why: str):
        super().__init__(f"{path}: {why}")
        self.why = why


@dataclass(frozen=True)
class DownloadCaps:
    bytes: int = MAX_DOWNLOAD_BYTES
    entries: int = MAX_DOWNLOAD_ENTRIES
    depth: int = MAX_DOWNLOAD_DEPTH


@dataclass
class DownloadReport:
    files: int = 0
    bytes: int = 0
    entries: int = 0
    skipped: list[str] = field(default_factory=list)  # "name: why"


def sandbox_parts(path: str) -> list[str]:
    """The components of a path inside the sandbox, walked one at a time from its root; no '..'."""
    parts = [part for part in PurePosixPath("/", path).parts[1:] if part not in ("", ".")]
    if ".." in parts:
        raise DownloadError(path, "'..' is not allowed")
    return parts


def open_source(root_fd: int, path: str, *, directory: bool) -> int:
    """An fd of `path` inside the sandbox, walked from its root fd without following any link."""
    parts = sandbox_parts(path)
    fd = os.dup(root_fd)
    try:
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            flags = _DIR_FLAGS if directory or not last else os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
            try:
                child = os.open(part, flags, dir_fd=fd)
            except OSError as exc:
                raise DownloadError(path, link_or_why(exc)) from None
            os.close(fd)
            fd = child
        if not directory and not stat.S_ISREG(os.fstat(fd).st_mode):
            raise DownloadError(path, "not a regular file")
        return fd
    except BaseException:
        os.close(fd)
        raise


def link_or_why(exc: OSError) -> str:
    if exc.errno in (errno.ELOOP, errno.ENOTDIR):  # O_NOFOLLOW met a link, or a file where a dir should be
        return "a link or not a directory (links are never followed out of a sandbox)"
    return exc.strerror or str(exc)


def open_dir_creating(root_fd: int, parts, mode: int = 0o755) -> int:
    """An fd of root/parts..., creating missing dirs, refusing (ELOOP/ENOTDIR) any component that is a link."""
    fd = os.dup(root_fd)
    for part in parts:
        try:
            try:
                os.mkdir(part, mode, dir_fd=fd)
            except FileExistsError:
                pass
            child = os.open(part, _DIR_FLAGS, dir_fd=fd)
        finally:
            os.close(fd)
        fd = child
    return fd


def copy_bytes(source_fd: int, sink_fd: int, budget: int) -> tuple[int, bool]:
    """Copy at most `budget` bytes; (bytes written, whether the source had more)."""
    written = 0
    while written < budget:
        chunk = os.read(source_fd, min(_CHUNK, budget - written))
        if not chunk:
            return written, False
        os.write(sink_fd, chunk)  # a regular host file: short writes only on a full disk, which raises
        written += len(chunk)
    return written, bool(os.read(source_fd, 1))


class _TreeCopy:
    """One directory copy: the walk, the host-side writes and the caps (see module docstring)."""

    def __init__(self, target: Path, caps: DownloadCaps, replaceable: set[Path]):
        self.target, self.caps, self.replaceable = target, caps, replaceable
        self.report = DownloadReport()

    def run(self, source_fd: int) -> DownloadReport:
        self.target.mkdir(parents=True, exist_ok=True)
        target_fd = os.open(self.target, _DIR_FLAGS)
        try:
            self._walk(source_fd, target_fd, PurePosixPath())
        finally:
            os.close(target_fd)
        return self.report

    def _walk(self, source_fd: int, target_fd: int, rel: PurePosixPath) -> None:
        """Copy a directory's entries in name order; never lists more than the entries cap allows."""
        with os.scandir(source_fd) as listing:
            names = sorted(entry.name for entry in itertools.islice(listing, self.caps.entries - self.report.entries + 1))
        for name in names:
            if self.report.entries >= self.caps.entries:
                self.report.skipped.append(f"{rel / name}: over the {self.caps.entries} entries download cap")
                return
            self.report.entries += 1
            self._entry(source_fd, target_fd, rel / name, name)

    def _entry(self, source_fd: int, target_fd: int, rel: PurePosixPath, name: str) -> None:
        try:
            mode = os.stat(name, dir_fd=source_fd, follow_symlinks=False).st_mode
        except OSError as exc:
            self.report.skipped.append(f"{rel}: {exc.strerror}")
            return
        if stat.S_ISDIR(mode):
            self._directory(source_fd, target_fd, rel, name)
        elif stat.S_ISREG(mode):
            self._file(source_fd, target_fd, rel, name)
        else:
            self.report.skipped.append(f"{rel}: a {'link' if stat.S_ISLNK(mode) else 'special file'}")

    def _directory(self, source_fd: int, target_fd: int, rel: PurePosixPath, name: str) -> None:
        if len(rel.parts) > self.caps.depth:
            self.report.skipped.append(f"{rel}: deeper than the {self.caps.depth} levels download cap")
            return
        try:
            child = os.open(name, _DIR_FLAGS, dir_fd=source_fd)
        except OSError as exc:  # swapped for a link since the stat
            self.report.skipped.append(f"{rel}: {link_or_why(exc)}")
            return
        try:
            child_target = open_dir_creating(target_fd, (name,))
        except OSError as exc:  # the host has a link or a file there
            os.close(child)
            self.report.skipped.append(f"{rel}: {exc.strerror}")
            return
        try:
            self._walk(child, child_target, rel)
        finally:
            os.close(child)
            os.close(child_target)

    def _file(self, source_fd: int, target_fd: int, rel: PurePosixPath, name: str) -> None:
        budget = self.caps.bytes - self.report.bytes
        if budget <= 0:
            self.report.skipped.append(f"{rel}: over the {_mib(self.caps.bytes)} download cap")
            return
        try:
            source = open_source(source_fd, name, directory=False)
        except DownloadError as exc:
            self.report.skipped.append(f"{rel}: {exc.why}")
            return
        host_path = self.target / rel
        replace = host_path in self.replaceable
        flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | (os.O_TRUNC if replace else os.O_EXCL)
        try:
            sink = os.open(name, flags, 0o644, dir_fd=target_fd)
        except FileExistsError:
            self.report.skipped.append(f"{rel}: {HOST_HAS_IT}")
            os.close(source)
            return
        except OSError as exc:
            self.report.skipped.append(f"{rel}: {exc.strerror}")
            os.close(source)
            return
        try:
            written, more = copy_bytes(source, sink, budget)
        finally:
            os.close(source)
            os.close(sink)
        self.replaceable.add(host_path)
        self.report.files += 1
        self.report.bytes += written
        if more:
            self.report.skipped.append(f"{rel}: cut at the {_mib(self.caps.bytes)} download cap")


def _mib(size: int) -> str:
    return f"{size >> 20} MiB" if size >= 1 << 20 else f"{size} bytes"


def copy_dir_out(root_fd: int, source: str, target: Path, caps: DownloadCaps = DownloadCaps(),
                 replaceable: set[Path] | None = None) -> DownloadReport:
    """Copy the sandbox dir `source` (walked from the sandbox's root fd) into the host dir `target`.

    `replaceable`: host files earlier downloads wrote (may be updated); grows with this one's files.
    """
    source_fd = open_source(root_fd, source, directory=True)
    try:
        report = _TreeCopy(target, caps, replaceable if replaceable is not None else set()).run(source_fd)
    finally:
        os.close(source_fd)
    for line in report.skipped:  # a file the host wrote itself (an agent's own log) is routine, not a warning
        level = logging.DEBUG if line.endswith(HOST_HAS_IT) else logging.WARNING
        _log.log(level, "skillspark sandbox: not copied out of the sandbox: %s", line)
    return report


def copy_file_out(root_fd: int, source: str, target: Path, max_bytes: int = MAX_DOWNLOAD_BYTES) -> int:
    """Copy the sandbox file `source` to the host path `target` (never through a link); the bytes copied."""
    source_fd = open_source(root_fd, source, directory=False)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        sink = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        try:
            written, more = copy_bytes(source_fd, sink, max_bytes)
        finally:
            os.close(sink)
    finally:
        os.close(source_fd)
    if more:
        _log.warning("skillspark sandbox: %s cut at the %s download cap", source, _mib(max_bytes))
    return written
