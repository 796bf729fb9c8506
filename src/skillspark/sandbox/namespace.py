"""A long-lived user+mount namespace that holds one sandbox's filesystem, and the init that lives in it.

One "holder" process per sandbox mounts everything: a size-capped tmpfs (or a host dir, for
builds) with the overlay upper dirs, the root overlay, one overlay per system dir, and the /logs
binds. It then execs the isolator (bwrap, or `unshare` as the fallback), which enters the new root
with fresh pid, ipc and uts namespaces and runs the sandbox's init (init_server.py) as pid 1.
Every command is then a fork + exec of init: files and processes persist from one command to
the next like in a container.

The host talks to init over socketpairs. When the host closes them (or dies), init exits, the
kernel kills every process in the sandbox's pid namespace and drops every mount with it: nothing
of the sandbox outlives the sandbox.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from skillspark.sandbox.hostfs import ROOT, system_dirs
from skillspark.sandbox.idmap import IdMapping, idmapped_clone, sandbox_mapping


class NamespaceError(RuntimeError):
    """The host refused to create the sandbox's namespace or mounts (an environment problem)."""


@dataclass
class Bind:
    source: Path
    target: str  # absolute path inside the sandbox
    read_only: bool = False


@dataclass
class MountPlan:
    """Everything the holder mounts: lower layers (top first), where uppers live, and binds.

    With `attach_dir` set (an idmapped sandbox), every host dir the plan names is attached under it
    by the holder (see idmap.py), and the operations read them from there instead of the host path.
    """

    state_dir: Path  # host dir for mount points; empty on the host side
    layers: list[Path]
    upper_dir: Path | None = None  # host dir for uppers (builds); None -> tmpfs
    storage_mb: int = 10240  # size of the tmpfs (enforced cap on everything the sandbox writes)
    binds: list[Bind] = field(default_factory=list)
    extra_mounts: list[str] = field(default_factory=list)  # raw shell lines run after the binds
    attach_dir: Path | None = None

    @property
    def root(self) -> Path:
        return self.state_dir / "root"

    def host_dirs(self) -> list[tuple[Path, bool]]:
        """(host dir, read-only) for every host dir the sandbox sees, in a fixed order."""
        dirs = [(layer, True) for layer in self.layers] + [(Path("/") / name, True) for name in system_dirs()]
        if self.upper_dir is not None:
            dirs.append((self.upper_dir, False))
        return dirs + [(bind.source, bind.read_only) for bind in self.binds]

    def _source(self, host_dir: Path) -> Path:
        if self.attach_dir is None:
            return host_dir
        index = [path for path, _ in self.host_dirs()].index(host_dir)
        return self.attach_dir / str(index)

    def operations(self) -> list[list]:
        """What the holder does in its namespace, in order, with its own syscalls (no process per step):
        ["mkdir", path] and ["mount", source, target, fstype, flags, data]."""
        for path in [self.state_dir, *self.layers, *([self.upper_dir] if self.upper_dir else [])]:
            if any(ch in str(path) for ch in ",:\n"):
                raise NamespaceError(f"path {path} contains ',' or ':' which overlayfs cannot take; use another cache dir")
        upper = self._source(self.upper_dir) if self.upper_dir else self.state_dir / "upper"
        ops: list[list] = [["mkdir", str(upper)], ["mkdir", str(self.root)]]
        if self.upper_dir is None:
            ops.append(["mount", "skillspark-upper", str(upper), "tmpfs", 0, f"size={int(self.storage_mb)}m,mode=755"])
        for name in [ROOT, *system_dirs()]:
            lowers = [str(self._source(layer) / name) for layer in self.layers]
            if name != ROOT:
                lowers.append(str(self._source(Path("/") / name)))
            up, work = upper / "up" / name, upper / "work" / name
            target = self.root if name == ROOT else self.root / name
            options = f"lowerdir={':'.join(lowers)},upperdir={up},workdir={work},userxattr"
            ops += [["mkdir", str(up)], ["mkdir", str(work)], ["mount", "skillspark", str(target), "overlay", 0, options]]
        for bind in self.binds:
            target = str(self.root) + bind.target
            ops += [["mkdir", target], ["mount", str(self._source(bind.source)), target, None, MS_BIND, None]]
            if bind.read_only:
                ops.append(["remount-ro", target])
        return ops

    def script(self) -> str | None:
        """Shell lines run after the operations (the fallback's /dev, a resolver bind); None when there are none."""
        return "\n".join(["set -e", *self.extra_mounts]) if self.extra_mounts else None


MS_BIND = 0x1000


def _write_id_maps(pid: int, mapping: IdMapping) -> None:
    """Write the holder's id maps (see idmap.py for which ids, and why)."""
    proc = Path(f"/proc/{pid}")
    if mapping.count == 1:
        (proc / "setgroups").write_text("deny\n")  # required before an unprivileged gid_map
    uid_line, gid_line = mapping.map_lines()
    (proc / "uid_map").write_text(uid_line)
    (proc / "gid_map").write_text(gid_line)


INIT_SOURCE = Path(__file__).with_name("init_server.py")
HOLDER_SOURCE = Path(__file__).with_name("holder_main.py")
HOST_PYTHON = "/usr/bin/python3"  # the holder runs on the host's system Python, like init does inside
_READY_TIMEOUT_S = 60


class Holder:
    """The process that owns a sandbox's namespaces, and the channels to the init it runs.

    `launcher` is the isolator's argv ending in the interpreter that reads init from stdin; the
    holder appends init's arguments (its ends of the online and offline control sockets, the
    capabilities commands keep).
    `wrap` prefixes the host command line (cgroup joins), so the whole sandbox is born inside them.
    """

    def __init__(self, plan: MountPlan, launcher: list[str], keep_caps: list[int],
                 wrap: Callable[[list[str]], list[str]] = lambda argv: argv):
        self.plan = plan
        self._init_pid: int | None = None
        self.mapping = sandbox_mapping()
        plan.state_dir.mkdir(parents=True, exist_ok=True)
        if self.mapping.idmapped:  # the holder, root of its namespace, must be able to mount in here
            plan.attach_dir = plan.state_dir / "host"
            os.chown(plan.state_dir, self.mapping.outside_uid, self.mapping.outside_gid)
        script = plan.script()
        then = ["/bin/sh", "-c", script + '\nexec "$@"', "sh"] if script else []
        control, holder_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pairs = [socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET) for _ in range(2)]
        self.online, self.offline = (ours for ours, _ in pairs)
        theirs = [their.fileno() for _, their in pairs]
        self._log = open(plan.state_dir / "init.log", "w+b")
        argv = [HOST_PYTHON, "-I", "-S", "-c", HOLDER_SOURCE.read_text(), str(holder_end.fileno()),
                json.dumps(plan.operations()), *then, *launcher, *map(str, theirs), ",".join(map(str, keep_caps))]
        self._proc = subprocess.Popen(
            wrap(argv), stdin=subprocess.PIPE, stdout=self._log, stderr=self._log,
            pass_fds=[*theirs, holder_end.fileno()],
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}, start_new_session=True,
        )
        for _, their in pairs:
            their.close()
        holder_end.close()
        try:
            self._attach_host_dirs(control)
            assert self._proc.stdin
            self._proc.stdin.write(INIT_SOURCE.read_bytes())  # the script of init's interpreter
            self._proc.stdin.close()
            answers = [self._ready(channel) for channel in (self.online, self.offline)]
        except OSError as exc:
            self.close()
            raise NamespaceError(f"cannot start the sandbox: {exc}") from None
        finally:
            control.close()
        if not all(answers):
            reason = self._log_tail() or "its init exited"
            self.close()
            raise NamespaceError(f"cannot start the sandbox: {reason}")
        self.offline_fd: int = json.loads(answers[0])["offline_fd"]  # init's fd of the offline netns

    def _attach_host_dirs(self, control: socket.socket) -> None:
        """Map ids once the holder has its namespace; hand it idmapped host dirs (if idmapped)."""
        control.settimeout(_READY_TIMEOUT_S)
        if control.recv(64) != b"unshared":
            raise OSError(self._log_tail() or "the holder exited before entering its namespace")
        _write_id_maps(self._proc.pid, self.mapping)
        fds: list[int] = []
        targets: list[str] = []
        if self.plan.attach_dir is not None:
            userns = os.open(f"/proc/{self._proc.pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
            try:
                for index, (path, read_only) in enumerate(self.plan.host_dirs()):
                    fds.append(idmapped_clone(str(path), userns, read_only=read_only))
                    targets.append(str(self.plan.attach_dir / str(index)))
            finally:
                os.close(userns)
        try:
            socket.send_fds(control, [json.dumps(targets).encode()], fds)
        finally:
            for fd in fds:
                os.close(fd)

    @staticmethod
    def _ready(channel: socket.socket) -> bytes:
        channel.settimeout(_READY_TIMEOUT_S)
        answer = channel.recv(4096)
        channel.settimeout(None)
        return answer

    def _log_tail(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace").strip()[-1000:]

    @property
    def pid(self) -> int:
        return self._proc.pid

    def init_pid(self) -> int:
        """Host pid of the sandbox's init (the isolator's only child); looked up once, then checked."""
        if self._init_pid is not None and self.is_init(self._init_pid):
            return self._init_pid
        try:  # the kernel's list of the holder's children (CONFIG_PROC_CHILDREN), else a scan of /proc
            children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        except OSError:
            children = []
        for child in children:
            if self.is_init(int(child)):
                self._init_pid = int(child)
                return self._init_pid
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and self.is_init(int(entry.name)):
                self._init_pid = int(entry.name)
                return self._init_pid
        raise NamespaceError("the sandbox's init is not running")

    def is_init(self, pid: int) -> bool:
        """Whether `pid` is (still) a child of this holder, i.e. the sandbox's init."""
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        return int(stat.rsplit(")", 1)[1].split()[1]) == self.pid

    def close(self) -> None:
        """End init (and with it every process and mount of the sandbox), then the holder."""
        self.offline.close()
        self.online.close()
        if self._proc.poll() is None:
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._log.close()
