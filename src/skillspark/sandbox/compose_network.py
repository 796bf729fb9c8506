"""The private network of one compose trial: a bridge in a network namespace of its own, one veth per sandbox.

Docker gives a compose project one bridge network where every service has an address and its
name resolves. Here each service is a sandbox with its own network namespaces (online, offline);
a "hub" namespace, held by a process that lives as long as its stdin pipe is open, carries a
bridge, and each sandbox namespace gets one end of a veth pair whose other end joins the bridge.
Two trials have two hubs: the same addresses and names never meet. The hub has no link to the
host, so the bridge reaches only the trial's own sandboxes. When the hub process ends (closed, or
its parent died), the kernel drops the namespace, the bridge and every veth pair with it.

Creating links in namespaces that belong to the sandboxes' user namespaces needs CAP_NET_ADMIN
over them, which host root has; without it, compose tasks are refused with one line.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess

from skillspark.errors import UserError

SUBNET = ipaddress.ip_network("10.77.0.0/16")  # apart from slirp4netns's 10.0.2.0/24
_FIRST_HOST = 10
_COMMAND_TIMEOUT_S = 20


class NetworkSetupError(RuntimeError):
    """The kernel or `ip` refused a step of the private network (an environment problem)."""


def address(index: int, secondary: bool = False) -> str:
    """The address of service `index` (its online namespace) or, `secondary`, of its other namespace."""
    return str(SUBNET[(256 if secondary else 0) + _FIRST_HOST + index])


def _ip_binary() -> str:
    found = shutil.which("ip", path="/usr/sbin:/usr/bin:/sbin:/bin")
    if not found:
        raise UserError("docker-compose tasks in the local sandbox need iproute2's `ip` on this host; "
                        "install it (apt-get install iproute2) or use --env docker")
    return found


def _require_root() -> None:
    if os.geteuid() != 0:
        raise UserError("docker-compose tasks in the local sandbox need root on this host (to wire the services' "
                        "private network); run as root or use --env docker")


class PrivateNetwork:
    """One bridge per trial; `attach` plugs a network namespace (a /proc path) into it at an address."""

    def __init__(self) -> None:
        _require_root()
        self._ip = _ip_binary()
        self._nsenter = shutil.which("nsenter", path="/usr/bin:/bin:/usr/sbin:/sbin") or "nsenter"
        unshare = shutil.which("unshare", path="/usr/bin:/bin:/usr/sbin:/sbin") or "unshare"
        # `cat` reads its stdin until our end closes: when we close it, or die, the hub goes away.
        self._hub = subprocess.Popen([unshare, "--net", "--", "cat"], stdin=subprocess.PIPE,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        self._links = 0
        try:
            self._wait_for_own_namespace()
            self._in(self.hub_netns, "link add br0 type bridge", "link set br0 up", "link set lo up")
        except BaseException:
            self.close()
            raise

    @property
    def hub_netns(self) -> str:
        return f"/proc/{self._hub.pid}/ns/net"

    def _wait_for_own_namespace(self) -> None:
        """`unshare` enters the new namespace before it execs `cat`: wait until the pid's namespace differs."""
        ours = os.stat("/proc/self/ns/net").st_ino
        for _ in range(2000):
            if self._hub.poll() is not None:
                raise NetworkSetupError(f"cannot create the private network: {self._stderr()}")
            try:
                if os.stat(self.hub_netns).st_ino != ours and os.readlink(f"/proc/{self._hub.pid}/exe").endswith("/cat"):
                    return
            except OSError:
                pass
            self._hub_wait(0.005)
        raise NetworkSetupError("cannot create the private network: its namespace did not appear")

    def _hub_wait(self, seconds: float) -> None:
        try:
            self._hub.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            pass

    def _stderr(self) -> str:
        if self._hub.stderr is None:
            return "no detail"
        try:
            return self._hub.stderr.read().decode(errors="replace").strip()[-300:] or f"exit {self._hub.returncode}"
        except OSError:
            return "no detail"

    def _in(self, netns: str, *commands: str) -> None:
        """Run `ip` commands inside the network namespace at `netns` (one batch, one process)."""
        proc = subprocess.run([self._nsenter, f"--net={netns}", self._ip, "-batch", "-"], input="\n".join(commands) + "\n",
                              capture_output=True, text=True, timeout=_COMMAND_TIMEOUT_S)
        if proc.returncode != 0:
            raise NetworkSetupError(f"cannot wire the private network: ip: {proc.stderr.strip()[-300:]}")

    def attach(self, netns: str, ip: str) -> None:
        """Give the namespace at `netns` an `eth1` with `ip` on the bridge (its loopback brought up too).

        Never the host's own namespace (a sandbox without slirp4netns shares it when online)."""
        if os.stat(netns).st_ino == os.stat("/proc/self/ns/net").st_ino:
            raise UserError("docker-compose tasks in the local sandbox need each service in its own network "
                            "namespace, which needs slirp4netns on this host; install it (apt-get install "
                            "slirp4netns) or use --env docker")
        hub_end = f"vh{self._links}"
        self._links += 1
        self._in(netns, f"link add eth1 type veth peer name {hub_end} netns {self._hub.pid}",
                 f"addr add {ip}/{SUBNET.prefixlen} dev eth1", "link set eth1 up", "link set lo up")
        self._in(self.hub_netns, f"link set {hub_end} master br0", f"link set {hub_end} up")

    @property
    def hub_pid(self) -> int:
        return self._hub.pid

    def close(self) -> None:
        """End the hub: the kernel removes the bridge and every veth pair of this trial."""
        if self._hub.stdin is not None and not self._hub.stdin.closed:
            self._hub.stdin.close()
        try:
            self._hub.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._hub.kill()
            self._hub.wait()
        if self._hub.stderr is not None:
            self._hub.stderr.close()
