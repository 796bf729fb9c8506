"""The sandbox's writable layer on disk, capped at `storage_mb`: a sparse ext4 image per sandbox.

A tmpfs would cap the size as well, but its pages are memory charged to the sandbox's memory
cgroup: with `memory_mb = 128` and `storage_mb = 1024`, writing 600 MB to /app made the kernel's
OOM killer pick the sandbox's init. In Docker the writable layer is on disk and only the page
cache (reclaimable) counts as memory. A loop-mounted ext4 image gives the same: ENOSPC past
`storage_mb`, no memory pressure. The image is sparse (a few MB until written) and made in
0.1-0.4 s. It needs host root (loop devices); otherwise the tmpfs stays (without root there is no
memory cgroup either, so the OOM case cannot arise).

`mkfs.ext4` runs once per size: the empty filesystem is kept as a sparse template in the cache
(`storage/ext4-<size>mb-v1/image`) and each sandbox gets a sparse copy of it (only its ~4 MB of
metadata are copied, 5-10 ms, against 50+ ms and a process for mkfs on a busy host).

The host mounts the image only long enough for the sandbox's holder to take an idmapped copy of
the mount; `release_host_mount` then drops the host's own, so the filesystem lives exactly as long
as the sandbox (the loop device clears itself when its last mount goes).
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import logging
import os
import shutil
import subprocess
from pathlib import Path

from skillspark.files import build_dir_atomically

_log = logging.getLogger(__name__)
_warned = False


TEMPLATE_VERSION = "1"
_MNT_DETACH, _MS_NOSUID, _MS_NODEV = 2, 0x2, 0x4
_LOOP_CTL_GET_FREE, _LOOP_CONFIGURE, _LO_FLAGS_AUTOCLEAR = 0x4C82, 0x4C0A, 4
_libc = ctypes.CDLL(None, use_errno=True)


class _LoopInfo64(ctypes.Structure):
    _fields_ = [("device", ctypes.c_uint64), ("inode", ctypes.c_uint64), ("rdevice", ctypes.c_uint64),
                ("offset", ctypes.c_uint64), ("sizelimit", ctypes.c_uint64), ("number", ctypes.c_uint32),
                ("encrypt_type", ctypes.c_uint32), ("encrypt_key_size", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("file_name", ctypes.c_uint8 * 64), ("crypt_name", ctypes.c_uint8 * 64),
                ("encrypt_key", ctypes.c_uint8 * 32), ("init", ctypes.c_uint64 * 2)]


class _LoopConfig(ctypes.Structure):
    _fields_ = [("fd", ctypes.c_uint32), ("block_size", ctypes.c_uint32), ("info", _LoopInfo64),
                ("reserved", ctypes.c_uint64 * 8)]


def mount_loop(image: Path, mount_point: Path, attempts: int = 10) -> None:
    """Mount an ext4 image through a free loop device with our own ioctls (no `mount` process).

    The device clears itself when its last user goes (LO_FLAGS_AUTOCLEAR): here, the last mount.
    Two processes may be handed the same free device; the loser (EBUSY) asks again.
    """
    backing = os.open(image, os.O_RDWR | os.O_CLOEXEC)
    try:
        for _ in range(attempts):
            control = os.open("/dev/loop-control", os.O_RDWR | os.O_CLOEXEC)
            try:
                number = fcntl.ioctl(control, _LOOP_CTL_GET_FREE)
            finally:
                os.close(control)
            device = os.open(f"/dev/loop{number}", os.O_RDWR | os.O_CLOEXEC)
            try:
                config = _LoopConfig(fd=backing)
                config.info.flags = _LO_FLAGS_AUTOCLEAR
                try:
                    fcntl.ioctl(device, _LOOP_CONFIGURE, bytes(config))
                except OSError as exc:
                    if exc.errno == errno.EBUSY:
                        continue
                    raise
                if _libc.mount(f"/dev/loop{number}".encode(), os.fsencode(mount_point), b"ext4",
                               _MS_NOSUID | _MS_NODEV, None) != 0:
                    code = ctypes.get_errno()
                    raise OSError(code, f"mount {image}: {os.strerror(code)}")
                return
            finally:
                os.close(device)
        raise OSError(errno.EBUSY, "no free loop device")
    finally:
        os.close(backing)


def _make_image(path: Path, size_mb: int) -> None:
    with open(path, "wb") as fh:
        fh.truncate(int(size_mb) << 20)
    _run(["mkfs.ext4", "-q", "-F", "-O", "^has_journal", "-m", "0", "-E", "lazy_itable_init=1", str(path)])


def template_image(cache_dir: Path, size_mb: int) -> Path:
    """The empty ext4 image of `size_mb`, made once per size (one builder at a time)."""
    folder = cache_dir / f"ext4-{int(size_mb)}mb-v{TEMPLATE_VERSION}"
    if not (folder / "image").is_file():
        build_dir_atomically(folder, lambda staging: _make_image(staging / "image", size_mb),
                             done=lambda built: (built / "image").is_file())
    return folder / "image"


def copy_sparse(source: Path, target: Path) -> None:
    """Copy a sparse file's data extents only (SEEK_DATA / SEEK_HOLE); holes stay holes."""
    src = os.open(source, os.O_RDONLY | os.O_CLOEXEC)
    try:
        dst = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            size = os.fstat(src).st_size
            os.ftruncate(dst, size)
            offset = 0
            while offset < size:
                try:
                    start = os.lseek(src, offset, os.SEEK_DATA)
                except OSError:  # ENXIO: no data after offset
                    break
                end = os.lseek(src, start, os.SEEK_HOLE)
                while start < end:
                    start += os.copy_file_range(src, dst, end - start, start, start)
                offset = end
        finally:
            os.close(dst)
    finally:
        os.close(src)


class DiskStorage:
    """A mounted, size-capped ext4 image under `state_dir` (see module docstring)."""

    def __init__(self, state_dir: Path, size_mb: int, template_dir: Path):
        self.image = state_dir / "storage.img"
        self.mount_point = state_dir / "storage"
        self.mount_point.mkdir(parents=True, exist_ok=True)
        copy_sparse(template_image(template_dir, size_mb), self.image)
        try:
            mount_loop(self.image, self.mount_point)
        except OSError:  # a kernel before 5.8 (no LOOP_CONFIGURE), or no free /dev/loopN node: mount(8) can
            _run(["mount", "-o", "loop,nosuid,nodev", str(self.image), str(self.mount_point)])
        self.mounted = True

    def release_host_mount(self) -> None:
        """Drop the host's mount (the sandbox keeps its own copy); safe to call twice."""
        if self.mounted:
            _libc.umount2(os.fsencode(self.mount_point), _MNT_DETACH)
            self.mounted = False


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise OSError(f"{argv[0]}: {(done.stderr or done.stdout).strip()[-300:]}")


def disk_storage(state_dir: Path, size_mb: int, template_dir: Path) -> DiskStorage | None:
    """A disk-backed writable layer when this host allows one (root, mkfs.ext4, loop devices)."""
    global _warned
    if os.getuid() != 0 or not shutil.which("mkfs.ext4"):
        return None
    try:
        return DiskStorage(state_dir, size_mb, template_dir)
    except OSError as exc:
        if not _warned:
            _log.warning("skillspark sandbox: no disk-backed storage (%s); the writable layer is a tmpfs, "
                         "which counts against memory_mb", exc)
            _warned = True
        return None
