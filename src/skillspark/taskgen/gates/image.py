"""The files of a local-sandbox built layer, by the path they have inside the image.

A layer is whatever the task's Dockerfile made, so it may hold fifos, sockets or device nodes
(`RUN mkfifo /app/fifo`; overlay whiteouts are character devices 0:0). Opening a fifo to hash it
blocks until a writer comes, which is never: every entry is therefore looked at with lstat, and
only regular files are ever opened (non-blocking, and checked again once open).
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from skillspark.sandbox.hostfs import ROOT

# Written by package managers and interpreters as a side effect; never the task's data.
_NOISE = ("/var/cache/", "/var/log/", "/var/lib/apt/lists/", "/var/lib/dpkg/", "/root/.cache/", "/tmp/")
_CHUNK = 1 << 20


def layer_entries(layer_dir: Path) -> Iterator[tuple[str, Path, os.stat_result]]:
    """(image path, host path, lstat) of every entry but directories, in path order; links not followed."""
    found: list[tuple[str, Path, os.stat_result]] = []
    pending = [layer_dir]
    while pending:
        with os.scandir(pending.pop()) as listing:
            for entry in listing:
                st = entry.stat(follow_symlinks=False)
                if stat.S_ISDIR(st.st_mode):
                    pending.append(Path(entry.path))
                    continue
                parts = Path(entry.path).relative_to(layer_dir).parts
                inside = parts[1:] if parts[0] == ROOT else parts
                if inside:
                    found.append(("/" + "/".join(inside), Path(entry.path), st))
    yield from sorted(found, key=lambda item: item[1])


def layer_files(layer_dir: Path) -> Iterator[tuple[str, Path]]:
    """(image path, host path) of every regular file or link in the layer, in path order."""
    for image_path, path, st in layer_entries(layer_dir):
        if stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode):
            yield image_path, path


def _special(st: os.stat_result) -> str:
    """What a non-regular, non-link entry is, as hashed: its type (and a device's numbers)."""
    if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        kind = "char" if stat.S_ISCHR(st.st_mode) else "block"
        return f"{kind} {os.major(st.st_rdev)}:{os.minor(st.st_rdev)}"
    return "fifo" if stat.S_ISFIFO(st.st_mode) else "socket" if stat.S_ISSOCK(st.st_mode) else "other"


def _content_digest(path: Path) -> str:
    """sha256 of a regular file, opened without following a link and without blocking."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped for something else since the lstat
            return "not a regular file"
        digest = hashlib.sha256()
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def layer_digest(layer_dir: Path) -> dict[str, str]:
    """Image path -> sha256 of the content (a link: of its target; a fifo, socket or device: of its
    type), leaving out caches, logs and bytecode."""
    digest: dict[str, str] = {}
    for image_path, path, st in layer_entries(layer_dir):
        if image_path.startswith(_NOISE) or "/__pycache__/" in image_path or image_path.endswith(".pyc"):
            continue
        if stat.S_ISREG(st.st_mode):
            digest[image_path] = _content_digest(path)
        else:
            data = f"link {os.readlink(path)}" if stat.S_ISLNK(st.st_mode) else _special(st)
            digest[image_path] = hashlib.sha256(data.encode()).hexdigest()
    return digest
