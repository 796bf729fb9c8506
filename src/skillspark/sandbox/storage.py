"""The sandbox's writable layer on disk, capped at `storage_mb`: a sparse ext4 image per sandbox.

A tmpfs would cap the size as well, but its pages are memory charged to the sandbox's memory
cgroup: with `memory_mb = 128` and `storage_mb = 1024`, writing 600 MB to /app made the kernel's
OOM killer pick the sandbox's init. In Docker the writable layer is on disk and only the page
cache (reclaimable) counts as memory. A loop-mounted ext4 image gives the same: ENOSPC past
`storage_mb`, no memory pressure. The image is sparse (a few MB until written) and made in
0.1-0.4 s. It needs host root (loop devices); otherwise the tmpfs stays (without root there is no
memory cgroup either, so the OOM case cannot arise).

The host mounts the image only long enough for the sandbox's holder to take an idmapped copy of
the mount; `release_host_mount` then drops the host's own, so the filesystem lives exactly as long
as the sandbox (the loop device clears itself when its last mount goes).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from pathlib import Path

_log = logging.getLogger(__name__)
_warned = False


class DiskStorage:
    """A mounted, size-capped ext4 image under `state_dir` (see module docstring)."""

    def __init__(self, state_dir: Path, size_mb: int):
        self.image = state_dir / "storage.img"
        self.mount_point = state_dir / "storage"
        self.mount_point.mkdir(parents=True, exist_ok=True)
        with open(self.image, "wb") as fh:
            fh.truncate(int(size_mb) << 20)
        _run(["mkfs.ext4", "-q", "-F", "-O", "^has_journal", "-m", "0", "-E", "lazy_itable_init=1", str(self.image)])
        _run(["mount", "-o", "loop,nosuid,nodev", str(self.image), str(self.mount_point)])
        self.mounted = True

    def release_host_mount(self) -> None:
        """Drop the host's mount (the sandbox keeps its own copy); safe to call twice."""
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.mount_point)], capture_output=True)
            self.mounted = False


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise OSError(f"{argv[0]}: {(done.stderr or done.stdout).strip()[-300:]}")


def disk_storage(state_dir: Path, size_mb: int) -> DiskStorage | None:
    """A disk-backed writable layer when this host allows one (root, mkfs.ext4, loop devices)."""
    global _warned
    if os.getuid() != 0 or not shutil.which("mkfs.ext4"):
        return None
    try:
        return DiskStorage(state_dir, size_mb)
    except OSError as exc:
        if not _warned:
            _log.warning("skillspark sandbox: no disk-backed storage (%s); the writable layer is a tmpfs, "
                         "which counts against memory_mb", exc)
            _warned = True
        return None
