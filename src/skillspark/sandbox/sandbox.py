"""One sandbox: a holder namespace (the filesystem) plus an init that runs every command in it.

The isolator (bubblewrap) runs once per sandbox: it enters the overlay root with fresh pid, ipc
and uts namespaces and starts init (init_server.py) as pid 1. Each command is a vfork + exec by
init (or, offline, by its helper in the offline network namespace), so it pays neither bwrap nor
`nsenter` nor a cgroup move (init was born inside the sandbox's cgroups). Processes a command leaves in the background live until `close()`, like in a
container. If bwrap is missing, util-linux `unshare` gives the same namespaces with a chroot (said once).
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from pathlib import Path
from typing import IO

from skillspark.errors import UserError
from skillspark.sandbox.limits import LimitEnforcer, Limits
from skillspark.sandbox.namespace import Holder, MountPlan
from skillspark.sandbox.network import OutboundNetwork, resolver_override, slirp_binary
from skillspark.sandbox.process import InitChannel, ProcessResult, SandboxInitError, run_in_init

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# The host's TLS trust store: paths, not secrets, and valid inside because /etc and /usr are overlays
# of the host's. Without them, tools that ignore the system store by default (uv, for one) cannot
# reach the package registries from a host behind a TLS-inspecting proxy.
TRUST_STORE_VARS = ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


def host_trust_env() -> dict[str, str]:
    """The host's CA-bundle variables that point into /etc or /usr (the only host env a sandbox sees)."""
    return {k: v for k in TRUST_STORE_VARS if (v := os.environ.get(k, "")).startswith(("/etc/", "/usr/"))}


# init runs on the host's system Python as the sandbox sees it (through the overlay of /usr).
SANDBOX_PYTHON = "/usr/bin/python3"
INIT_INTERPRETER = [SANDBOX_PYTHON, "-I", "-S", "-"]
# What a command may do as root inside: Docker's default capabilities, minus CAP_SYS_CHROOT (with
# the unshare fallback's chroot it would be an escape). No CAP_SYS_ADMIN (mounts, namespaces) and
# no CAP_SYS_PTRACE (an offline command must not take over the online init).
COMMAND_CAPS = {
    "chown": 0, "dac_override": 1, "fowner": 3, "fsetid": 4, "kill": 5, "setgid": 6, "setuid": 7,
    "setpcap": 8, "net_bind_service": 10, "net_raw": 13, "mknod": 27, "audit_write": 29, "setfcap": 31,
}
_log = logging.getLogger(__name__)
_warned_fallback = False
# Switch to a non-root user inside: setpriv resolves the name from the sandbox's own /etc/passwd.
_AS_USER = (
    'u="$1"; shift; h=$(getent passwd "$u" | cut -d: -f6); [ -n "$h" ] && export HOME="$h"; '
    'exec setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups -- "$@"'
)
SHM_MB = 64  # /dev/shm's own cap, Docker's default: it is a tmpfs outside the storage_mb layer
# Kernel knobs stay read-only (/proc/sys, sysrq), /dev gets no new files, /dev/shm is capped.
_BWRAP_HARDENING = [
    "--ro-bind", "/proc/sys", "/proc/sys", "--ro-bind-try", "/proc/sysrq-trigger", "/proc/sysrq-trigger",
    "--size", str(SHM_MB << 20), "--perms", "1777", "--tmpfs", "/dev/shm", "--remount-ro", "/dev",
]
# A minimal /dev for the unshare fallback (bwrap builds its own with --dev), hardened like bwrap's.
_DEV_LINES = [
    'd="$ROOTFS/dev"; mount -t tmpfs -o mode=755,size=1m dev "$d"; mkdir -p "$d/pts" "$d/shm"',
    f'mount -t tmpfs -o mode=1777,size={SHM_MB}m shm "$d/shm"',
    'for n in null zero full random urandom tty; do touch "$d/$n"; mount --bind "/dev/$n" "$d/$n"; done',
    'ln -s /proc/self/fd "$d/fd"; ln -s /proc/self/fd/0 "$d/stdin"; ln -s /proc/self/fd/1 "$d/stdout"; ln -s /proc/self/fd/2 "$d/stderr"',
    'mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$d/pts"; ln -s pts/ptmx "$d/ptmx"',
    'mount -o remount,bind,ro "$d"',
]


def find_tool(name: str) -> str:
    path = shutil.which(name, path="/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
    if not path:
        raise UserError(f"the local sandbox needs `{name}` (util-linux) on this host; install it (apt-get install util-linux) or use --env docker")
    return path


def choose_isolator(preferred: str = "auto") -> str:
    """'bwrap' when installed, else 'unshare' (said once); 'unshare' can be forced for testing."""
    global _warned_fallback
    if preferred not in ("auto", "bwrap", "unshare"):
        raise UserError(f"sandbox isolator '{preferred}' is unknown; use auto, bwrap or unshare")
    if preferred in ("auto", "bwrap") and shutil.which("bwrap"):
        return "bwrap"
    if preferred == "bwrap":
        raise UserError("bubblewrap (`bwrap`) is not installed; apt-get install bubblewrap, or use isolator=unshare")
    if not _warned_fallback:
        _log.warning("skillspark sandbox: bubblewrap not found, falling back to util-linux unshare + chroot")
        _warned_fallback = True
    return "unshare"


class Sandbox:
    """A running sandbox (filesystem, init, limits) and how commands run in it."""

    def __init__(self, plan: MountPlan, limits: Limits, isolator: str = "auto", network: bool = True):
        """`network`: the task allows the network, so slirp starts with the sandbox; otherwise only
        when an online command first needs it (the namespace is the sandbox's own either way)."""
        self.isolator = choose_isolator(isolator)
        unshare = find_tool("unshare")
        self._nsenter = find_tool("nsenter")
        if not Path(SANDBOX_PYTHON).exists():
            raise UserError(f"the local sandbox runs its init on the host's {SANDBOX_PYTHON}; install it "
                            "(apt-get install python3) or use --env docker")
        slirp = slirp_binary()
        if slirp:
            plan.extra_mounts = [*plan.extra_mounts, *resolver_override(plan.root, plan.state_dir)]
        if self.isolator == "unshare":
            plan.extra_mounts = [f"ROOTFS={plan.root}", *_DEV_LINES, *plan.extra_mounts]
            launcher = [unshare, "--pid", "--fork", "--kill-child", "--ipc", "--uts", "--mount", "--propagation",
                        "private", *(["--net"] if slirp else []), f"--root={plan.root}", "--wd=/", "--mount-proc", "--"]
        else:
            launcher = [find_tool("bwrap"), "--bind", str(plan.root), "/", "--dev", "/dev", "--proc", "/proc",
                        *_BWRAP_HARDENING, *(["--unshare-net"] if slirp else []),
                        "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--hostname", "sandbox",
                        "--die-with-parent", "--as-pid-1", "--new-session", "--chdir", "/", "--"]
        self.root: Path = plan.root
        self.limits = LimitEnforcer(limits)
        try:
            self.holder = Holder(plan, [*launcher, *INIT_INTERPRETER], sorted(COMMAND_CAPS.values()),
                                 wrap=self.limits.wrap)
        except Exception:
            self.limits.close()
            raise
        self.network: OutboundNetwork | None = None
        self._slirp = slirp
        if slirp and network:  # started now, waited for only by the first command that may use it
            try:
                self._network()
            except Exception:
                self.holder.close()
                self.limits.close()
                raise
        self.channels = {False: InitChannel(self.holder.online), True: InitChannel(self.holder.offline)}

    def _network(self) -> OutboundNetwork | None:
        if self.network is None and self._slirp:
            self.network = OutboundNetwork(self._slirp, self.holder.init_pid())
        return self.network

    @staticmethod
    def _as_user(inner: list[str], user: str | None) -> list[str]:
        if user in (None, "", "root", "0"):
            return inner
        return ["/bin/sh", "-c", _AS_USER, "sh", str(user), *inner]

    def interactive_argv(self, inner: list[str], *, cwd: str, offline: bool, user: str | None) -> list[str]:
        """A host command line that joins the running sandbox and keeps the caller's terminal.

        Used by `skillspark sandbox shell`: a TTY needs the caller's session, which a command that
        init forks cannot have, so this one path still joins with `nsenter` (its speed does not matter).
        """
        if not offline and (network := self._network()) is not None:
            network.wait_ready()
        pid = self.holder.init_pid()
        net = [f"--net=/proc/{pid}/fd/{self.holder.offline_fd}" if offline else "--net"]
        caps = ",".join(f"+{name}" for name in COMMAND_CAPS)
        return self.limits.wrap([
            self._nsenter, "-t", str(pid), "--user", "--mount", "--ipc", "--uts", "--pid", *net, "--root", "--wd",
            "--preserve-credentials", "--",
            "env", f"--chdir={cwd}", "setpriv", f"--bounding-set=-all,{caps}", "--", *self._as_user(inner, user),
        ])

    async def run(
        self,
        inner: list[str],
        *,
        env: dict[str, str],
        cwd: str = "/",
        offline: bool = False,
        user: str | None = None,
        timeout_sec: float | None = None,
        max_output_bytes: int = 1_000_000,
        stdin: IO[bytes] | int | None = None,
        stdout: IO[bytes] | int | None = None,
    ) -> ProcessResult:
        """Run argv inside; `stdout` given: written there directly instead of captured."""
        if not offline and (network := self._network()) is not None and not network.ready:
            await asyncio.to_thread(network.wait_ready)
        request = {"argv": self._as_user(inner, user), "env": env, "cwd": cwd}
        return await run_in_init(self.channels[offline], request, timeout_sec=timeout_sec,
                                 max_output_bytes=max_output_bytes, stdin=stdin, stdout=stdout)

    def root_fd(self) -> int:
        """An fd of the sandbox's root as its processes see it, opened by the host from outside.

        Copy-out reads through it with the host's own code (download.py), never the sandbox's tools.
        The pid is checked again after the open, so a recycled pid cannot hand over another root.
        """
        pid = self.holder.init_pid()
        fd = os.open(f"/proc/{pid}/root", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        if not self.holder.is_init(pid):
            os.close(fd)
            raise SandboxInitError("the sandbox's init is gone")
        return fd

    def close(self) -> None:
        """End init (which takes every process of the sandbox with it), drop the filesystem and cgroups.

        slirp is told to exit first, so it and the sandbox wind down at the same time.
        """
        if self.network is not None:
            self.network.signal_exit()
        self.holder.close()
        if self.network is not None:
            self.network.close()
        self.limits.close()
