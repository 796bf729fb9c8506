"""Resource limits for one sandbox: cgroup v1 when the host lets us write it, else rlimits.

A cgroup is the strong option: it caps memory and process count for the whole sandbox, and on
stop every process still in it is killed, whatever it did to escape its process group. Without a
writable cgroup we fall back to per-process rlimits (address space, process count), which are
weaker (set with `prlimit`; RLIMIT_NPROC does not bind real root) and say so once in the log.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import time
import uuid
from pathlib import Path

from pydantic import BaseModel

CGROUP_ROOT = Path("/sys/fs/cgroup")
_EMPTY_TIMEOUT_S = 10  # how long stop() waits for the sandbox's processes to be gone
_log = logging.getLogger(__name__)
_warned = False


def _host_file_max() -> int:
    try:
        return int(Path("/proc/sys/fs/file-max").read_text())
    except (OSError, ValueError):
        return 1 << 20


def open_files_cap(pids_max: int, file_max: int) -> int:
    """Open files per process (RLIMIT_NOFILE, soft = hard) so that a sandbox full of processes holds
    at most half of the host's file table: file_max / (2 * pids_max), within [256, 65536]."""
    return max(256, min(65536, file_max // (2 * pids_max)))


class Limits(BaseModel):
    """What the task asked for (task.toml) plus the sandbox's own safety caps."""

    cpus: float | None = None
    memory_mb: int | None = None
    pids_max: int = 1024
    period_us: int = 100_000

    @property
    def nofile(self) -> int:
        return open_files_cap(self.pids_max, _host_file_max())


class LimitEnforcer:
    """Creates the sandbox's cgroups (if possible); the sandbox's holder is started inside them.

    Everything in the sandbox (its init and every command init forks) is born inside, so no
    command pays for a cgroup move (several ms per controller on cgroup v1).
    """

    def __init__(self, limits: Limits, name: str | None = None):
        self.limits = limits
        self.name = name or f"sbx-{uuid.uuid4().hex[:12]}"
        self.dirs: list[Path] = []
        self._prlimit = shutil.which("prlimit") or "prlimit"
        try:
            self._make_cgroups()
        except OSError:
            self._remove_cgroups()
            self.dirs = []
        if not self.dirs:
            global _warned
            if not _warned:
                _log.warning("skillspark sandbox: cgroups are not writable here; using rlimits (weaker: "
                             "no CPU cap, RLIMIT_NPROC does not bind root)")
                _warned = True

    @property
    def uses_cgroups(self) -> bool:
        return bool(self.dirs)

    def _make_cgroups(self) -> None:
        settings: dict[str, dict[str, str]] = {"pids": {"pids.max": str(self.limits.pids_max)}}
        if self.limits.memory_mb:
            settings["memory"] = {"memory.limit_in_bytes": str(self.limits.memory_mb * 1024 * 1024)}
        if self.limits.cpus:
            quota = int(self.limits.cpus * self.limits.period_us)
            settings["cpu"] = {"cpu.cfs_period_us": str(self.limits.period_us), "cpu.cfs_quota_us": str(quota)}
        for controller, values in settings.items():
            base = CGROUP_ROOT / controller
            if not (base / "cgroup.procs").exists():
                raise OSError(f"no cgroup v1 {controller} controller")
            path = base / "skillspark" / self.name
            path.mkdir(parents=True, exist_ok=True)
            self.dirs.append(path)
            for key, value in values.items():
                (path / key).write_text(value)

    def wrap(self, argv: list[str]) -> list[str]:
        """Prefix a host command line so that it starts under the limits.

        A tiny `sh` moves itself into the cgroups and execs the command (same pid), so every process
        it forks is born inside them. (A Python preexec_fn would force a full fork of
        this large process, which costs more than the whole sandbox.) Without cgroups, `prlimit`.
        """
        if self.dirs:
            joins = "; ".join(f"echo $$ > {path / 'cgroup.procs'}" for path in self.dirs)
            files = f"ulimit -Sn {self.limits.nofile}; ulimit -Hn {self.limits.nofile}"  # soft first: soft > hard is refused
            return ["/bin/sh", "-c", f'{joins}; {files}; exec "$@"', "sh", *argv]
        limits = [f"--nproc={self.limits.pids_max}", f"--nofile={self.limits.nofile}"]
        if self.limits.memory_mb:
            limits.append(f"--as={self.limits.memory_mb * 1024 * 1024}")
        return [self._prlimit, *limits, "--", *argv]

    def pids(self) -> list[int]:
        """Processes still in the sandbox's cgroup (empty without cgroups)."""
        if not self.dirs:
            return []
        try:
            return [int(p) for p in (self.dirs[0] / "cgroup.procs").read_text().split()]
        except OSError:
            return []

    def oom_kills(self) -> int:
        """How many processes the kernel killed for memory in this sandbox (0 without a memory cgroup)."""
        for path in self.dirs:
            control = path / "memory.oom_control"
            if control.exists():
                for line in control.read_text().splitlines():
                    if line.startswith("oom_kill "):
                        return int(line.split()[1])
        return 0

    def kill_all(self) -> None:
        """SIGKILL every process in the cgroup until it is empty (new forks are caught next round).

        Bounded by time, not rounds: on a loaded host a fork bomb's 64 exits can take over a second
        to be reaped, and a cgroup that still holds them cannot be removed.
        """
        deadline = time.monotonic() + _EMPTY_TIMEOUT_S
        while (pids := self.pids()) and time.monotonic() < deadline:
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.02)

    def close(self) -> None:
        self.kill_all()
        self._remove_cgroups()

    def _remove_cgroups(self) -> None:
        deadline = time.monotonic() + _EMPTY_TIMEOUT_S
        for path in self.dirs:
            while True:
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:  # zombies still being reaped
                    if time.monotonic() > deadline:
                        _log.warning("skillspark sandbox: cgroup %s is not empty after %d s; left in place",
                                     path, _EMPTY_TIMEOUT_S)
                        break
                    time.sleep(0.02)
