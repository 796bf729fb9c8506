"""The sandbox's online network: its own network namespace, outbound only, through slirp4netns.

Sharing the host's network namespace would let a command reach every service on the host's
loopback (the embedded model server, a database) and bind host ports. Docker's default bridge
does not reach the host's loopback; neither does this: init is born in a new network namespace
and slirp4netns (user-mode TCP/IP, run on the host, Debian package `slirp4netns`) connects its tap
device to the outside with `--disable-host-loopback`. Its DNS forwarder (10.0.2.3) stands in for
a host resolver on loopback (systemd-resolved's 127.0.0.53), which the sandbox could not reach.

Without slirp4netns the online sandbox keeps the host's network namespace, said once in the log.
"""

from __future__ import annotations

import logging
import os
import select
import shutil
import subprocess
import threading
from pathlib import Path

from skillspark.sandbox.namespace import NamespaceError

SLIRP_DNS = "10.0.2.3"
_READY_TIMEOUT_S = 10
_log = logging.getLogger(__name__)
_warned = False


def slirp_binary() -> str | None:
    """slirp4netns if installed (else None, said once: the sandbox then shares the host's network)."""
    global _warned
    found = shutil.which("slirp4netns", path="/usr/local/bin:/usr/bin:/bin")
    if not found and not _warned:
        _log.warning("skillspark sandbox: slirp4netns is not installed (apt-get install slirp4netns); online "
                     "sandboxes share the host's network, host loopback included")
        _warned = True
    return found


def host_resolver_on_loopback(resolv_conf: Path = Path("/etc/resolv.conf")) -> bool:
    """Whether the host's DNS server sits on its loopback, unreachable from the sandbox's network."""
    try:
        lines = resolv_conf.read_text(errors="replace").splitlines()
    except OSError:
        return False
    servers = [line.split()[1] for line in lines if line.startswith("nameserver") and len(line.split()) > 1]
    return any(server.startswith("127.") or server == "::1" for server in servers)


class OutboundNetwork:
    """slirp4netns attached to the network namespace of `pid`; ends when closed or when we die.

    Started without waiting: `wait_ready` (before the first command that may use the network)
    waits for slirp's ready signal, so its start overlaps the host's other work.
    """

    def __init__(self, binary: str, pid: int):
        self._ready_r, ready_w = os.pipe()
        self._exit_r, self._exit_w = os.pipe()  # slirp4netns exits when our end closes (even on SIGKILL)
        self._proc = subprocess.Popen(
            [binary, "--configure", "--mtu=65520", "--disable-host-loopback", "--enable-sandbox",
             f"--ready-fd={ready_w}", f"--exit-fd={self._exit_r}", str(pid), "tap0"],
            pass_fds=(ready_w, self._exit_r), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, start_new_session=True,
        )
        os.close(ready_w)
        os.close(self._exit_r)
        self.ready = False
        self._lock = threading.Lock()

    def wait_ready(self) -> None:
        """Block until slirp has configured the namespace (at once when it already has)."""
        with self._lock:
            self._wait_ready()

    def _wait_ready(self) -> None:
        if self.ready:
            return
        fd, self._ready_r = self._ready_r, -1
        try:
            answer = _read_with_timeout(fd, _READY_TIMEOUT_S) if fd >= 0 else b""
        finally:
            if fd >= 0:
                os.close(fd)
        if answer != b"1":
            self.close()
            raise NamespaceError(f"cannot give the sandbox its network: slirp4netns: {self._stderr_tail()}")
        self.ready = True

    def _stderr_tail(self) -> str:
        try:
            _, err = self._proc.communicate(timeout=2)
        except subprocess.TimeoutExpired:
            return "no answer"
        return (err or b"").decode(errors="replace").strip()[-300:] or f"exit {self._proc.returncode}"

    def signal_exit(self) -> None:
        """Tell slirp to exit (it watches the exit fd); `close` waits for it."""
        if self._exit_w >= 0:
            os.close(self._exit_w)
            self._exit_w = -1

    def close(self) -> None:
        if self._ready_r >= 0:
            os.close(self._ready_r)
            self._ready_r = -1
        self.signal_exit()
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        if self._proc.stderr:
            self._proc.stderr.close()


def _read_with_timeout(fd: int, timeout: float) -> bytes:
    readable, _, _ = select.select([fd], [], [], timeout)
    return os.read(fd, 1) if readable else b""


def resolver_override(root: Path, state_dir: Path) -> list[str]:
    """Mount-script lines that point the sandbox's resolv.conf at slirp's DNS forwarder, when needed."""
    if not host_resolver_on_loopback():
        return []
    conf, target = state_dir / "resolv.conf", root / "etc/resolv.conf"
    return [f"if [ -f '{target}' ] && [ ! -L '{target}' ]; then printf 'nameserver {SLIRP_DNS}\\n' > '{conf}'; "
            f"mount --bind '{conf}' '{target}'; fi"]
