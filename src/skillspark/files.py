"""Writing the files skillspark keeps: whole files and folders atomically, logs one fsynced line at a time.

Why one module: these are the only ways our outputs (trajectories, memos, skills, attempts, reports) and
shared caches (sandbox layers, interpreter copies, TextWorld games, prepared models) reach disk, so the
guarantees they need live here once. A reader (or a crash) sees the old content or the new, never half
of it; no configured secret is ever persisted (`core.redact`), even when a model echoed the key it was
sent; and a cache entry is built by one builder at a time, whether the others are threads of this
process or other processes (`exclusive`, `build_dir_atomically`).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import shutil
import stat
import tempfile
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from skillspark.core.redact import redact


def write_atomic(path: Path, text: str, *, make_parents: bool = False) -> None:
    """Write redacted `text` to a temp file beside `path`, fsync, then rename over it; the temp never lingers.

    A missing parent folder is an error (a user's `--csv`/`--json` path) unless `make_parents`.
    """
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    text = redact(text)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def append_line(path: Path, line: str) -> None:
    """Append one redacted line (a JSONL record) and fsync, so a kill keeps every finished line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(redact(line) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


_thread_locks: dict[str, threading.Lock] = {}
_thread_locks_guard = threading.Lock()


def lock_path_for(target: Path) -> Path:
    """The lock file that guards building `target` (beside it, hidden)."""
    return target.parent / f".{target.name}.lock"


@contextmanager
def exclusive(lock_path: Path) -> Iterator[None]:
    """Hold `lock_path` against threads of this process AND other processes.

    Two locks, because neither alone does both: a `threading.Lock` per path for threads, and `flock`
    on a fresh open of the file for processes (POSIX `fcntl` record locks are per process, so they
    would let two threads of one process in together). The holder removes the lock file when it is
    done, so caches keep no litter; a waiter that then wakes up holding the removed file's lock sees
    that the path no longer names its file, and takes the lock again on the new one.
    """
    key = os.path.abspath(lock_path)
    with _thread_locks_guard:
        thread_lock = _thread_locks.setdefault(key, threading.Lock())
    with thread_lock:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = _flock_current(lock_path)
        try:
            yield
        finally:
            lock_path.unlink(missing_ok=True)  # while still holding it: see the docstring
            os.close(fd)  # drops the flock


def _flock_current(lock_path: Path) -> int:
    """An fd holding `flock` on the file that `lock_path` names at the moment the lock is won."""
    while True:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            if os.stat(lock_path).st_ino == os.fstat(fd).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)  # the previous holder removed it: lock the new one


@asynccontextmanager
async def exclusive_async(lock_path: Path) -> AsyncIterator[None]:
    """`exclusive` for a coroutine: waits in a thread, so the event loop keeps running meanwhile.

    Cancelled while waiting, the lock is released as soon as the waiting thread gets it.
    """
    holder = exclusive(lock_path)
    waiting = asyncio.ensure_future(asyncio.to_thread(holder.__enter__))
    try:
        await asyncio.shield(waiting)
    except asyncio.CancelledError:
        waiting.add_done_callback(lambda done: done.cancelled() or done.exception() or holder.__exit__(None, None, None))
        raise
    try:
        yield
    finally:
        holder.__exit__(None, None, None)


def build_dir_atomically(target: Path, build: Callable[[Path], None], *, replace: bool = False,
                         done: Callable[[Path], bool] = Path.is_dir, durable: bool = True) -> Path:
    """`target`, built by `build(temp folder beside it)` under `exclusive`, then renamed into place.

    A reader sees no folder or a complete one. A builder that finds `done(target)` once it holds the
    lock uses the winner's result instead of building again; with `replace`, an existing `target` is
    swapped out only after the new build is complete. `durable` fsyncs the tree before the rename, so
    a crash cannot leave a published folder with empty files.
    """
    with exclusive(lock_path_for(target)):
        if not replace and done(target):
            return target
        temp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
        try:
            build(temp)
            if not replace and done(target):  # published meanwhile by a builder that took no lock: it wins
                shutil.rmtree(temp)
                return target
            os.chmod(temp, 0o755)  # mkdtemp's 0700 would hide a shared cache or a chosen --output from others
            if durable:
                _fsync_tree(temp)
            publish_dir(temp, target)
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
    return target


def publish_dir(built: Path, target: Path) -> None:
    """Rename a complete folder onto `target`; an existing `target` is moved aside first, then removed."""
    old = None
    if target.exists() or target.is_symlink():
        old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".old"))
        os.replace(target, old)
    os.replace(built, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _fsync_tree(folder: Path) -> None:
    """fsync every regular file and folder (links, fifos and device nodes, e.g. overlay whiteouts, are never opened)."""
    for path in [*folder.rglob("*"), folder]:
        mode = path.lstat().st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            continue
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | (os.O_DIRECTORY if stat.S_ISDIR(mode) else 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def regular_files(root: Path) -> list[Path]:
    """Regular files under `root`, sorted; links (to files or folders) neither followed nor listed, since
    whoever wrote the folder (a task, a skill) may point them anywhere on the host."""
    if root.is_symlink() or not root.is_dir():
        return []
    found = []
    for parent, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not os.path.islink(os.path.join(parent, d)))
        paths = (Path(parent, f) for f in sorted(files))
        found += [path for path in paths if path.is_file() and not path.is_symlink()]
    return found
