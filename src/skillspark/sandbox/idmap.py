"""Sandbox root is not host root: an unprivileged id range, and host dirs seen through idmapped mounts.

When skillspark runs as host root, a sandbox's user namespace maps its ids 0..65535 to the host ids
SANDBOX_ID_BASE.. (ids no host account uses). Its root then has no power over the host: sysctls,
/proc/sysrq-trigger and files owned by host root treat it as an ordinary user. For the host's
system dirs and our cached layers (owned by host root on disk) to look root-owned inside, as an
image's files do in Docker, each is attached as an idmapped mount (Linux >= 5.12, open_tree +
mount_setattr) that shows host id N as sandbox id N. Creating those needs CAP_SYS_ADMIN in the
host's namespace, so the host makes them (detached) and hands the fds to the sandbox's holder,
which attaches them in its own mount namespace.

Without host root (or on a kernel without idmapped mounts) the caller's own id is the only one
mapped (to root inside), which `unshare -r` would also do: such a root holds only the caller's
rights. The old-kernel root case keeps host root (warned once).
"""

from __future__ import annotations

import ctypes
import logging
import os
import subprocess
import time
from dataclasses import dataclass
from functools import cache

SANDBOX_ID_BASE = 0x70000000  # above systemd's container range (0x80000..0x6FFF0000), below 2^31
SANDBOX_ID_COUNT = 65536

_SYS_OPEN_TREE, _SYS_MOUNT_SETATTR = 428, 442  # same numbers on x86_64 and aarch64 (new syscall table)
_AT_FDCWD, _AT_EMPTY_PATH, _AT_RECURSIVE = -100, 0x1000, 0x8000
_OPEN_TREE_CLONE, _OPEN_TREE_CLOEXEC = 1, os.O_CLOEXEC
_MOUNT_ATTR_RDONLY, _MOUNT_ATTR_NOSUID, _MOUNT_ATTR_NODEV, _MOUNT_ATTR_IDMAP = 0x1, 0x2, 0x4, 0x100000
_libc = ctypes.CDLL(None, use_errno=True)
_log = logging.getLogger(__name__)


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


@dataclass(frozen=True)
class IdMapping:
    """How the sandbox's ids sit on the host: `inside` ids start at host id `outside`."""

    outside_uid: int
    outside_gid: int
    count: int
    idmapped: bool  # host dirs are attached through idmapped mounts (the sandbox's root is not host root)

    def map_lines(self) -> tuple[str, str]:
        return f"0 {self.outside_uid} {self.count}\n", f"0 {self.outside_gid} {self.count}\n"


def idmapped_clone(path: str, userns_fd: int, *, read_only: bool) -> int:
    """A detached copy of the mount at `path`, showing host id N as id N of the user namespace.

    Only the mount itself, not mounts below it (a bind of /proc there could not be idmapped).
    """
    fd = _libc.syscall(_SYS_OPEN_TREE, _AT_FDCWD, os.fsencode(path), _OPEN_TREE_CLONE | _OPEN_TREE_CLOEXEC)
    if fd < 0:
        raise OSError(ctypes.get_errno(), f"open_tree({path}): {os.strerror(ctypes.get_errno())}")
    attrs = _MOUNT_ATTR_IDMAP | _MOUNT_ATTR_NODEV | (_MOUNT_ATTR_RDONLY if read_only else 0)
    attr = _MountAttr(attrs, 0, 0, userns_fd)
    if _libc.syscall(_SYS_MOUNT_SETATTR, fd, b"", _AT_EMPTY_PATH, ctypes.byref(attr), ctypes.sizeof(attr)) != 0:
        errno = ctypes.get_errno()
        os.close(fd)
        raise OSError(errno, f"idmapping {path}: {os.strerror(errno)}")
    return fd


@cache
def _kernel_idmaps() -> bool:
    """Whether this kernel and the host's root filesystem take idmapped mounts (probed once)."""
    ours = os.readlink("/proc/self/ns/user")
    probe = subprocess.Popen(["unshare", "--user", "cat"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)  # a throwaway user namespace to idmap against
    try:
        for _ in range(2000):
            if probe.poll() is not None:
                raise OSError("cannot create a user namespace")
            if os.readlink(f"/proc/{probe.pid}/ns/user") != ours:
                break
            time.sleep(0.001)
        for kind in ("uid_map", "gid_map"):
            with open(f"/proc/{probe.pid}/{kind}", "w") as fh:
                fh.write(f"0 {SANDBOX_ID_BASE} 1\n")
        userns = os.open(f"/proc/{probe.pid}/ns/user", os.O_RDONLY)
        try:
            os.close(idmapped_clone("/usr", userns, read_only=True))
            return True
        finally:
            os.close(userns)
    except OSError as exc:
        _log.warning("skillspark sandbox: this kernel cannot idmap mounts (%s); sandbox root stays host "
                     "root (run skillspark as an ordinary user, or on Linux >= 5.12, to change that)", exc)
        return False
    finally:
        probe.kill()
        probe.communicate()


def sandbox_mapping() -> IdMapping:
    """The id mapping for a new sandbox on this host, as the current user."""
    uid, gid = os.getuid(), os.getgid()
    if uid != 0:
        return IdMapping(uid, gid, 1, idmapped=False)
    if _kernel_idmaps():
        return IdMapping(SANDBOX_ID_BASE, SANDBOX_ID_BASE, SANDBOX_ID_COUNT, idmapped=True)
    return IdMapping(0, 0, SANDBOX_ID_COUNT, idmapped=False)
