"""Who uses the shared embedded server: one lease file per client process, checked for liveness.

Why files and not a count: the server must outlive the process that started it while another process
still uses it, and a client that was SIGKILLed cannot say goodbye. A lease names its process and that
process's start time, so anyone (the next client, the server's own watchdog) can tell a live client from
a dead one, or from a new process that reused the pid. Changes happen under one `flock`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

LOCK_FILE = ".lock"


def start_time(pid: int) -> str | None:
    """The process's start time in clock ticks after boot (/proc/PID/stat field 22); None if gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": field 3 (state) is fields[0]
    return None if fields[0] in ("Z", "X") else fields[19]


class Leases:
    """The lease files under `directory`: `<pid>` holding that process's start time."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the directory's lock (taking a lease and starting or stopping the server happen under it)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / LOCK_FILE, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield  # closing the file releases the lock, also when the process dies

    def take(self, pid: int | None = None) -> None:
        pid = pid or os.getpid()
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / str(pid)).write_text(start_time(pid) or "")

    def drop(self, pid: int | None = None) -> None:
        (self.directory / str(pid or os.getpid())).unlink(missing_ok=True)

    def live(self) -> list[int]:
        """The pids whose lease is held by the process that took it; leases of dead processes are removed."""
        alive = []
        for lease in self.directory.glob("[0-9]*") if self.directory.is_dir() else []:
            pid = int(lease.name)
            try:
                taken_by = lease.read_text()
            except OSError:
                continue
            if taken_by and start_time(pid) == taken_by:
                alive.append(pid)
            else:
                lease.unlink(missing_ok=True)
        return sorted(alive)
