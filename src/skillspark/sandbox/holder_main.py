"""The sandbox's holder: enters a new user + mount namespace, becomes its root, attaches host dirs.

This file is NOT imported by skillspark: the host runs it with its system `python3 -I -S -c`
(standard library only, any Python >= 3.8). It must become root of the new user namespace *before*
it execs anything, because the id map it gets gives its host uid no place inside: after an exec it
would have no capabilities left there.

Protocol on the socket whose fd is argv[1]: the holder sends "unshared"; the host writes the id maps,
then sends one JSON list of in-namespace paths with as many mount fds (SCM_RIGHTS), which the holder
attaches there (an empty list when the host dirs are used as they are). Then it performs the JSON
list of operations in argv[2] (mkdirs and mounts: the overlays, the binds) with its own syscalls,
which is much faster than a shell running `mkdir` and `mount` once per step on a busy host, and
execs argv[3:] (the isolator and init, or a shell with the few steps that remain scripts first).
"""

import ctypes
import json
import os
import socket
import sys

CLONE_NEWUSER, CLONE_NEWNS = 0x10000000, 0x00020000
MS_RDONLY, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 0x1, 0x20, 0x1000, 0x4000, 1 << 18
# statvfs flag bits that a remount must keep (the kernel refuses to clear locked ones in a user namespace)
KEPT_ON_REMOUNT = 0x2 | 0x4 | 0x8 | 0x400 | 0x800 | 0x1000  # nosuid, nodev, noexec, noatime, nodiratime, relatime
SYS_MOVE_MOUNT, MOVE_MOUNT_F_EMPTY_PATH, AT_FDCWD = 429, 0x4, -100
MAX_MOUNT_FDS = 64
libc = ctypes.CDLL(None, use_errno=True)


def check(ret, what):
    if ret != 0:
        code = ctypes.get_errno()
        raise OSError(code, "%s: %s" % (what, os.strerror(code)))


def receive_mounts(ctl):
    data, ancdata, _, _ = ctl.recvmsg(1 << 16, socket.CMSG_SPACE(MAX_MOUNT_FDS * 4))
    fds = []
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            usable = len(payload) - len(payload) % 4
            fds += [int.from_bytes(payload[i:i + 4], sys.byteorder) for i in range(0, usable, 4)]
    targets = json.loads(data or b"null")
    if targets is None or len(targets) != len(fds):
        raise OSError("the host sent %d mount fds for %s" % (len(fds), targets))
    return list(zip(fds, targets))


def become_root():
    """Root of the namespace (a no-op where the caller's own id is the one mapped to root)."""
    try:
        os.setgroups([])
    except OSError:  # setgroups is denied in a namespace an unprivileged caller made
        pass
    os.setresgid(0, 0, 0)
    os.setresuid(0, 0, 0)


def perform(operations):
    """Run the host's list of mkdir / mount / remount-ro steps."""
    for op in operations:
        if op[0] == "mkdir":
            os.makedirs(op[1], exist_ok=True)
        elif op[0] == "mount":
            source, target, fstype, flags, data = op[1:]
            check(libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None, flags,
                             data.encode() if data else None), "mount %s" % target)
        elif op[0] == "remount-ro":
            kept = os.statvfs(op[1]).f_flag & KEPT_ON_REMOUNT
            check(libc.mount(b"none", op[1].encode(), None, MS_REMOUNT | MS_BIND | MS_RDONLY | kept, None),
                  "remount %s read-only" % op[1])
        else:
            raise OSError("unknown holder operation %r" % (op[0],))


def main():
    ctl = socket.socket(fileno=int(sys.argv[1]))
    check(libc.unshare(CLONE_NEWUSER | CLONE_NEWNS), "unshare")
    check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "make / private")
    ctl.sendall(b"unshared")
    mounts = receive_mounts(ctl)
    become_root()
    for fd, target in mounts:
        os.makedirs(target, exist_ok=True)
        check(libc.syscall(SYS_MOVE_MOUNT, fd, b"", AT_FDCWD, target.encode(), MOVE_MOUNT_F_EMPTY_PATH),
              "attach %s" % target)
        os.close(fd)
    ctl.close()
    perform(json.loads(sys.argv[2]))
    os.execv(sys.argv[3], sys.argv[3:])


if __name__ == "__main__":
    try:
        main()
    except OSError as exc:
        sys.stderr.write("skillspark holder: %s\n" % exc)
        sys.exit(1)
