"""Reading a growing JSONL file by byte offsets: each complete line is read and digested once.

Why: the dashboard serves runs that are still being written (one fsynced line per record) and logs of
hundreds of MB. Rereading a file per request or per live event would stall the page, so a `JsonlTail`
keeps the offset just past the last complete line and a small digest of every line read so far;
`refresh()` reads only what was appended. A torn last line waits for its newline; a file that shrank or
was replaced (a resumed run trims its log through a rename) is read again from the start. The file is
opened without following a link, so a planted symlink cannot make the dashboard read a host file.
"""

from __future__ import annotations

import bisect
import json
import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

MAX_LINE_BYTES = 64 * 2**20  # a longer line is listed as oversized, not parsed
_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC

Digest = Callable[[dict[str, Any]], dict[str, Any]]


class Line(NamedTuple):
    start: int
    end: int
    digest: dict[str, Any]


def open_regular(path: Path) -> int | None:
    """A read-only fd of the regular file at `path` (no link followed); None when absent or not one."""
    try:
        fd = os.open(path, _FLAGS)
    except OSError:
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return fd


def signature(path: Path | str, *, regular: bool = True) -> tuple[int, int, int] | None:
    """(mtime_ns, size, inode) of a regular file (any entry with `regular=False`), not following a link;
    None when absent."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size, info.st_ino) if not regular or stat.S_ISREG(info.st_mode) else None


class JsonlTail:
    """The lines of one JSONL file read so far, each as `digest(record)`; thread-safe."""

    def __init__(self, path: Path, digest: Digest):
        self.path = path
        self.digest = digest
        self.lines: list[Line] = []
        self._ends: list[int] = []
        self.end = 0
        self.mtime_ns = 0
        self._inode: int | None = None
        self._lock = threading.Lock()

    def refresh(self) -> JsonlTail:
        """Read the lines appended since the last call (all of them after a trim or a replace)."""
        with self._lock:
            fd = open_regular(self.path)
            if fd is None:
                self._reset(None)
                return self
            with os.fdopen(fd, "rb", buffering=1 << 20) as handle:
                info = os.fstat(handle.fileno())
                if info.st_ino != self._inode or info.st_size < self.end:
                    self._reset(info.st_ino)
                self.mtime_ns = info.st_mtime_ns
                if info.st_size > self.end:
                    handle.seek(self.end)
                    self._read(handle)
        return self

    def _reset(self, inode: int | None) -> None:
        self.lines, self._ends, self.end, self._inode = [], [], 0, inode

    def _read(self, handle) -> None:
        while True:
            start = handle.tell()
            raw = handle.readline(MAX_LINE_BYTES + 1)
            if raw.endswith(b"\n"):
                self._add(Line(start, handle.tell(), self._parse(raw)))
                continue
            if len(raw) <= MAX_LINE_BYTES:
                return  # end of file, or a line still being written: wait for its newline
            while (more := handle.readline(1 << 20)) and not more.endswith(b"\n"):
                pass
            if not more:
                return
            self._add(Line(start, handle.tell(), {"type": "oversized", "bytes": handle.tell() - start}))

    def _parse(self, raw: bytes) -> dict[str, Any]:
        try:
            record = json.loads(raw)
        except (ValueError, RecursionError):
            return {"type": "unreadable"}
        if not isinstance(record, dict):
            return {"type": "unreadable"}
        return self.digest(record)

    def _add(self, line: Line) -> None:
        self.lines.append(line)
        self._ends.append(line.end)
        self.end = line.end

    def after(self, offset: int) -> tuple[int, list[Line]]:
        """(index of the first, lines) of the lines that end after byte `offset` (a client's Last-Event-ID)."""
        with self._lock:
            first = bisect.bisect_right(self._ends, offset)
            return first, self.lines[first:]

    def read_record(self, index: int) -> dict[str, Any] | None:
        """The whole record of line `index` (0-based), parsed again from disk; None when out of range."""
        with self._lock:
            if not 0 <= index < len(self.lines):
                return None
            line = self.lines[index]
        fd = open_regular(self.path)
        if fd is None:
            return None
        try:
            data = os.pread(fd, line.end - line.start, line.start)
        finally:
            os.close(fd)
        try:
            record = json.loads(data)
        except (ValueError, RecursionError):
            return None
        return record if isinstance(record, dict) else None


class TailCache:
    """One `JsonlTail` per file, shared by every request and live stream (bounded; least recent dropped)."""

    def __init__(self, limit: int = 8192):
        self.limit = limit
        self._tails: dict[tuple[Path, Digest], JsonlTail] = {}
        self._lock = threading.Lock()

    def get(self, path: Path, digest: Digest) -> JsonlTail:
        key = (path, digest)
        with self._lock:
            tail = self._tails.pop(key, None) or JsonlTail(path, digest)
            self._tails[key] = tail  # re-inserted: most recent last
            while len(self._tails) > self.limit:
                self._tails.pop(next(iter(self._tails)))
        return tail.refresh()
