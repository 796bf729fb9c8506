"""Which host entries an ordinary user may not read, under every tree a sandbox sees, kept current cheaply.

The mask (hostmask.py) must cover every private entry of every host dir exposed read-only (/usr,
/etc, /opt, /var, ...), not just /etc and /var: a root-only 0600 file under /opt or /usr/local was
readable inside. Walking those trees costs 0.5 s here (150,000 entries), too much for every sandbox
start. So the first call of a process walks them once and puts an inotify watch on every directory;
later calls only read the queued events (one non-blocking read when nothing changed) and look again
at just the entries they name. Events come for the entries *in* a watched directory too (chmod,
chown, create, delete, rename), so a file made private after the walk is seen at the next sandbox
start. A queue overflow, a moved directory or a failed watch means a full walk again; a host without
inotify (or out of watches) walks every time.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import stat
import struct
import threading
from pathlib import Path

_log = logging.getLogger(__name__)
_IN_ATTRIB, _IN_MOVED_FROM, _IN_MOVED_TO, _IN_CREATE, _IN_DELETE = 0x4, 0x40, 0x80, 0x100, 0x200
_IN_DELETE_SELF, _IN_MOVE_SELF, _IN_Q_OVERFLOW, _IN_IGNORED, _IN_ISDIR = 0x400, 0x800, 0x4000, 0x8000, 0x40000000
_IN_ONLYDIR, _IN_DONT_FOLLOW, _IN_NONBLOCK, _IN_CLOEXEC = 0x1000000, 0x2000000, os.O_NONBLOCK, os.O_CLOEXEC
_WATCH = (_IN_ATTRIB | _IN_MOVED_FROM | _IN_MOVED_TO | _IN_CREATE | _IN_DELETE | _IN_DELETE_SELF | _IN_MOVE_SELF
          | _IN_ONLYDIR | _IN_DONT_FOLLOW)
_RESCAN = _IN_Q_OVERFLOW | _IN_MOVE_SELF  # a directory moved: paths of its watches are stale
_EVENT = struct.Struct("iIII")
_libc = ctypes.CDLL(None, use_errno=True)


def is_private(st: os.stat_result) -> bool:
    """Whether an ordinary user is kept out: a file not world-readable, a dir not world-searchable."""
    if stat.S_ISDIR(st.st_mode):
        return not (st.st_mode & stat.S_IROTH and st.st_mode & stat.S_IXOTH)
    return not st.st_mode & stat.S_IROTH


class PrivateIndex:
    """Private entries under `trees` (paths relative to `root`), updated from inotify events."""

    def __init__(self, root: Path, trees: list[str]):
        self.root, self.trees = root, trees
        self.entries: dict[str, os.stat_result] = {}  # relative path -> lstat
        self._dirs: dict[int, str] = {}  # watch descriptor -> relative dir path
        self._fd: int | None = None
        self._lock = threading.Lock()
        self._walk_always = False

    def current(self) -> list[tuple[str, os.stat_result]]:
        """(relative path, lstat) of every private entry now, in path order (contents of private dirs left out)."""
        with self._lock:
            if self._fd is None or self._walk_always:
                self._full_walk()
            else:
                self._apply_events()
            return sorted(self.entries.items())

    # ---- walking -------------------------------------------------------------------------------

    def _full_walk(self) -> None:
        self._close()
        self.entries.clear()
        self._dirs.clear()
        if not self._walk_always:
            fd = _libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
            if fd < 0:
                self._give_up_watching(os.strerror(ctypes.get_errno()))
            else:
                self._fd = fd
        for tree in self.trees:
            self._walk(tree)

    def _walk(self, rel: str) -> None:
        """Record private entries at and under `rel`, watching every directory on the way."""
        pending = [rel]
        while pending:
            folder = pending.pop()
            self._watch(folder)
            try:
                listing = list(os.scandir(self.root / folder))
            except OSError:
                continue
            for entry in listing:
                child = f"{folder}/{entry.name}"
                kind = self._look(child)
                if kind == "dir":
                    pending.append(child)

    def _look(self, rel: str) -> str | None:
        """lstat one entry and record it: 'dir' for a public directory (to descend into), else None."""
        try:
            st = os.lstat(self.root / rel)
        except OSError:
            return None
        if stat.S_ISLNK(st.st_mode):
            return None
        if is_private(st):
            self.entries[rel] = st
            return None
        return "dir" if stat.S_ISDIR(st.st_mode) else None

    def _watch(self, rel: str) -> None:
        if self._fd is None:
            return
        wd = _libc.inotify_add_watch(self._fd, os.fsencode(self.root / rel), _WATCH)
        if wd >= 0:
            self._dirs[wd] = rel
        elif ctypes.get_errno() not in (errno.ENOENT, errno.ENOTDIR, errno.EACCES):
            self._give_up_watching(os.strerror(ctypes.get_errno()))

    def _give_up_watching(self, why: str) -> None:
        _log.warning("skillspark sandbox: cannot watch the host's system dirs (%s); every sandbox start "
                     "walks them to find private files (slower, just as safe)", why)
        self._walk_always = True
        self._close()

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    # ---- events --------------------------------------------------------------------------------

    def _read_events(self) -> list[tuple[int, int, str]] | None:
        """Queued (wd, mask, name) events; None when only a full walk can be trusted."""
        events: list[tuple[int, int, str]] = []
        while True:
            try:
                data = os.read(self._fd, 1 << 16)
            except BlockingIOError:
                return events
            offset = 0
            while offset < len(data):
                wd, mask, _, length = _EVENT.unpack_from(data, offset)
                name = data[offset + _EVENT.size: offset + _EVENT.size + length].split(b"\0", 1)[0]
                offset += _EVENT.size + length
                if mask & _RESCAN or (mask & _IN_MOVED_FROM and mask & _IN_ISDIR):
                    return None
                events.append((wd, mask, os.fsdecode(name)))

    def _apply_events(self) -> None:
        events = self._read_events()
        if events is None:
            self._full_walk()
            return
        for wd, mask, name in events:
            folder = self._dirs.get(wd)
            if folder is None:
                continue
            if mask & (_IN_IGNORED | _IN_DELETE_SELF):
                self._forget(folder)
                self._dirs.pop(wd, None)
                continue
            self._refresh(f"{folder}/{name}" if name else folder)

    def _refresh(self, rel: str) -> None:
        """Look at one entry again: drop what was known at and under it, then record it afresh."""
        self._forget(rel)
        if self._look(rel) == "dir":
            self._walk(rel)

    def _forget(self, rel: str) -> None:
        prefix = rel + "/"
        for known in [path for path in self.entries if path == rel or path.startswith(prefix)]:
            del self.entries[known]


_indexes: dict[tuple[str, tuple[str, ...]], PrivateIndex] = {}
_indexes_guard = threading.Lock()


def private_entries(root: Path, trees: list[str]) -> list[tuple[str, os.stat_result]]:
    """Every private entry under `trees` of `root` now (one index per process and root, see module docstring)."""
    key = (str(root), tuple(trees))
    with _indexes_guard:
        index = _indexes.setdefault(key, PrivateIndex(root, list(trees)))
    return index.current()
