"""Copy a directory out of a sandbox without trusting anything in it.

The sandbox streams a tar of the directory; the host keeps regular files and directories only.
A symbolic link, hard link or device the sandbox planted would otherwise make the host (Harbor,
our judge, the summarizer) read or overwrite a host file of the sandbox's choosing; such entries
are skipped and reported. Names that climb out of the target are refused, a file the host wrote
itself is never replaced (the agent's own trajectory, say; a file an earlier download wrote is
updated, as Harbor copies logs more than once), and the total is capped so a sandbox cannot fill
the host's disk through its logs.
"""

from __future__ import annotations

import logging
import os
import tarfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MAX_DOWNLOAD_BYTES = 256 << 20  # per directory copied out (logs, artifacts)
_CHUNK = 1 << 16
HOST_HAS_IT = "the host already has this file"
_log = logging.getLogger(__name__)


@dataclass
class DownloadReport:
    files: int = 0
    bytes: int = 0
    skipped: list[str] = field(default_factory=list)  # "name: why"


def _safe_name(name: str) -> PurePosixPath | None:
    path = PurePosixPath(name)
    parts = [part for part in path.parts if part not in ("", ".")]
    if path.is_absolute() or ".." in parts:
        return None
    return PurePosixPath(*parts) if parts else PurePosixPath(".")


def _open_dir_nofollow(root_fd: int, parts: tuple[str, ...]) -> int:
    """An fd of root/parts..., creating missing dirs, refusing any component that is a link."""
    fd = os.dup(root_fd)
    for part in parts:
        try:
            os.mkdir(part, 0o755, dir_fd=fd)
        except FileExistsError:
            pass
        try:
            child = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
        finally:
            os.close(fd)
        fd = child
    return fd


def _write_member(archive: tarfile.TarFile, member: tarfile.TarInfo, root_fd: int, rel: PurePosixPath,
                  budget: int, replace: bool) -> int:
    """Write one regular file (at most `budget` bytes); returns the bytes written."""
    source = archive.extractfile(member)
    assert source is not None
    dir_fd = _open_dir_nofollow(root_fd, rel.parent.parts)
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | (os.O_TRUNC if replace else os.O_EXCL)
    try:
        fd = os.open(rel.name, flags, 0o644, dir_fd=dir_fd)
    finally:
        os.close(dir_fd)
    written = 0
    with os.fdopen(fd, "wb") as sink:
        while written < budget and (chunk := source.read(min(_CHUNK, budget - written))):
            sink.write(chunk)
            written += len(chunk)
    return written


def extract_regular_files(stream_fd: int, target: Path, limit: int = MAX_DOWNLOAD_BYTES,
                          replaceable: set[Path] | None = None) -> DownloadReport:
    """Extract the tar read from `stream_fd` into `target` (see module docstring); reads to EOF.

    `replaceable`: host files earlier downloads wrote (may be updated); grows with this one's files.
    """
    replaceable = replaceable if replaceable is not None else set()
    report = DownloadReport()
    target.mkdir(parents=True, exist_ok=True)
    root_fd = os.open(target, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        with os.fdopen(stream_fd, "rb", closefd=True) as stream:
            try:
                archive = tarfile.open(fileobj=stream, mode="r|")
            except tarfile.ReadError:  # no tar at all: the sandbox's tar failed, and says why itself
                stream.read()
                return report
            with archive:
                _extract_members(archive, root_fd, target, limit, replaceable, report)
            stream.read()  # drain, so the sandbox's tar never dies of a broken pipe
    finally:
        os.close(root_fd)
    for line in report.skipped:  # a file the host wrote itself (an agent's own log) is routine, not a warning
        level = logging.DEBUG if line.endswith(HOST_HAS_IT) else logging.WARNING
        _log.log(level, "skillspark sandbox: not copied out of the sandbox: %s", line)
    return report


def _extract_members(archive: tarfile.TarFile, root_fd: int, target: Path, limit: int,
                     replaceable: set[Path], report: DownloadReport) -> None:
    """Write each regular file of the archive; everything else is skipped and said in the report."""
    for member in archive:
        rel = _safe_name(member.name)
        if rel is None:
            report.skipped.append(f"{member.name}: outside the directory")
        elif member.isdir():
            if rel.parts:
                os.close(_open_dir_nofollow(root_fd, rel.parts))
        elif not member.isreg():
            report.skipped.append(f"{rel}: a {'link' if member.issym() or member.islnk() else 'special file'}")
        elif report.bytes >= limit:
            report.skipped.append(f"{rel}: over the {limit >> 20} MiB download cap")
        else:
            host_path = target / rel
            try:
                size = _write_member(archive, member, root_fd, rel, limit - report.bytes,
                                     replace=host_path in replaceable)
            except FileExistsError:
                report.skipped.append(f"{rel}: {HOST_HAS_IT}")
                continue
            except OSError as exc:  # a parent the host has as a link or file
                report.skipped.append(f"{rel}: {exc.strerror}")
                continue
            replaceable.add(host_path)
            report.files += 1
            report.bytes += size
            if size < member.size:
                report.skipped.append(f"{rel}: cut at the {limit >> 20} MiB download cap")
