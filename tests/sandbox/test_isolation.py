"""The must-hold security properties, each against the real bwrap sandbox.

Every test has a positive control where it matters (the same action outside the restriction
succeeds), so a test cannot pass just because the sandbox is broken in another way.
"""

import asyncio
import socket
import threading
import time
import uuid
from pathlib import Path

import pytest

from skillspark.sandbox.process import SandboxInitError
from skillspark.sandbox.session import task_sandbox


def _sandbox(task_dir, cache_dir, tmp_path, name="hello", **kwargs):
    return task_sandbox(task_dir(name), trial_dir=tmp_path / "trial", cache_dir=cache_dir, **kwargs)


def _processes_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


async def test_host_home_and_host_tmp_are_invisible(task_dir, cache_dir, tmp_path, monkeypatch):
    secret = Path.home() / f".skillspark-secret-{uuid.uuid4().hex}"
    fake_home = tmp_path / "home"
    fake_home.mkdir()
    (fake_home / "token").write_text("s3cret")
    secret.write_text("s3cret")
    monkeypatch.setenv("HOME", str(fake_home))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-should-not-leak")
    try:
        async with _sandbox(task_dir, cache_dir, tmp_path) as env:
            for path in (secret, fake_home / "token"):
                result = await env.exec(f"cat {path}")
                assert result.return_code != 0 and "s3cret" not in (result.stdout or "")
            listing = await env.exec("ls -A /root; env")
            assert "OPENAI_API_KEY" not in listing.stdout and "skillspark-secret" not in listing.stdout
            assert "GREETING_TARGET=/app/greeting.txt" in listing.stdout  # the task's ENV does get in
    finally:
        secret.unlink()


async def test_writes_stay_in_the_overlay_and_logs_are_copied_out(task_dir, cache_dir, tmp_path):
    marker = f"sbx-{uuid.uuid4().hex}"
    targets = [f"/usr/local/{marker}", f"/etc/{marker}", f"/opt/{marker}", f"/var/{marker}", f"/root/{marker}",
               f"/tmp/{marker}", f"/{marker}", f"{tmp_path}/{marker}", f"{Path.cwd()}/{marker}"]
    async with _sandbox(task_dir, cache_dir, tmp_path) as env:
        for target in targets:
            result = await env.exec(f"mkdir -p $(dirname {target}) && echo x > {target} && cat {target}")
            assert result.return_code == 0 and result.stdout == "x\n", (target, result)
        assert (await env.exec(f"rm -rf /usr/bin/env /etc/hostname && echo ok > /logs/agent/{marker}")).return_code == 0
        assert (await env.exec(f"cat /usr/local/{marker}")).stdout == "x\n"  # persists across commands
        assert not (tmp_path / "trial" / "agent" / marker).exists()  # /logs is inside, not a host bind ...
        await env.download_dir("/logs/agent", tmp_path / "trial" / "agent")
    for target in targets:
        assert not Path(target).exists(), target
    assert Path("/usr/bin/env").exists()
    assert (tmp_path / "trial" / "agent" / marker).read_text() == "ok\n"  # ... and Harbor copies it out


class _Server:
    """A TCP server on all host addresses that answers one line."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("0.0.0.0", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.sendall(b"hello-from-host\n")
            conn.close()


def _host_address() -> str:
    """The host's address on its default route (not loopback)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.254", 9))  # no packet is sent for a UDP connect
        return probe.getsockname()[0]


def _probe(address: str, port: int) -> str:
    return (f"python3 -c \"import socket; s=socket.create_connection(('{address}', {port}), timeout=3); "
            "print(s.recv(100).decode())\"")


async def test_host_loopback_is_unreachable_online_and_offline(task_dir, cache_dir, tmp_path):
    server = _Server()
    try:
        async with _sandbox(task_dir, cache_dir, tmp_path) as env:
            outside = await env.exec(_probe(_host_address(), server.port))
            assert "hello-from-host" in outside.stdout  # control: online, the network outside is reachable
            for address in ("127.0.0.1", "10.0.2.2"):  # its own loopback; slirp's alias of the host's
                online = await env.exec(_probe(address, server.port))
                assert online.return_code != 0 and "hello-from-host" not in online.stdout, address
            bound = await env.exec(f"python3 -c \"import socket; s=socket.socket(); s.bind(('127.0.0.1', {server.port})); print('bound')\"")
            assert bound.stdout == "bound\n"  # the port is the sandbox's own: the host's stays untouched
        async with _sandbox(task_dir, cache_dir, tmp_path, no_network=True) as env:
            offline = await env.exec(_probe(_host_address(), server.port))
            assert offline.return_code != 0 and "hello-from-host" not in offline.stdout
            await env.upload_dir(task_dir("hello") / "tests", "/tests")  # verification phase: network back
            assert "hello-from-host" in (await env.exec(_probe(_host_address(), server.port))).stdout
    finally:
        server.sock.close()


async def test_background_processes_live_between_execs_and_none_survives_stop(task_dir, cache_dir, tmp_path):
    marker = f"{int(time.time() * 1000) % 10**6 + 4_000_000}"
    async with _sandbox(task_dir, cache_dir, tmp_path) as env:
        started = time.monotonic()
        result = await env.exec(f"(setsid nohup sleep {marker} >/dev/null 2>&1 &); sleep {marker} & echo started")
        assert result.stdout.strip() == "started" and result.return_code == 0
        assert time.monotonic() - started < 1.5  # the background sleep holds stdout open; exec returns anyway
        await asyncio.sleep(0.2)
        assert len(_processes_with(f"sleep\0{marker}")) == 2  # as in Docker: both outlive their exec
        assert (await env.exec("pgrep -c -x sleep")).stdout == "2\n"  # and the next command sees them
        task = asyncio.create_task(env.exec(f"sleep {marker}"))
        await asyncio.sleep(1.0)
        assert len(_processes_with(f"sleep\0{marker}")) == 3
    await asyncio.sleep(0.2)
    assert _processes_with(f"sleep\0{marker}") == []  # stop() leaves nothing, detached or not
    with pytest.raises(SandboxInitError):  # the command that was still running learns the sandbox is gone
        task.result()


async def test_fork_bomb_is_contained_and_cleaned_up(task_dir, cache_dir, tmp_path):
    bomb = "bomb() { bomb | bomb & }; bomb"
    async with _sandbox(task_dir, cache_dir, tmp_path, pids_max=64) as env:
        cgroup = env.sandbox.limits.dirs[0] if env.sandbox.limits.uses_cgroups else None
        started = time.monotonic()
        result = await env.exec(f"{bomb}; sleep 30", timeout_sec=4)
        assert time.monotonic() - started < 28  # ended by the 4 s timeout, not by `sleep 30` (slack for a loaded host)
        assert result.return_code == 124  # the timeout killed the bomb with the rest of the command's tree
        if cgroup is not None:
            assert int((cgroup / "pids.peak").read_text()) <= 64
        assert (await env.exec("echo alive")).stdout == "alive\n"  # the sandbox still works afterwards
        left = await env.exec(f"{bomb}; echo left-running", timeout_sec=10)  # this one stays behind ...
        assert "left-running" in left.stdout
    if cgroup is not None:
        assert not cgroup.exists()  # ... until stop(): the cgroup could only be removed once empty


async def test_storage_limit_is_enforced(task_dir, cache_dir, tmp_path):
    async with _sandbox(task_dir, cache_dir, tmp_path, name="tiny-storage") as env:  # storage_mb = 32
        small = await env.exec("dd if=/dev/zero of=/root/small bs=1M count=8 status=none && echo ok")
        assert small.stdout == "ok\n"
        big = await env.exec("dd if=/dev/zero of=/opt/big bs=1M count=64 status=none")
        assert big.return_code != 0 and "No space left" in big.stderr


async def test_timeout_kills_the_tree(task_dir, cache_dir, tmp_path):
    async with _sandbox(task_dir, cache_dir, tmp_path) as env:
        started = time.monotonic()
        result = await env.exec("sleep 4321 & sleep 4322; echo never", timeout_sec=1)
        assert time.monotonic() - started < 5
        assert result.return_code == 124 and "never" not in result.stdout and "timed out" in result.stderr
        assert _processes_with("sleep\x004321") == [] and _processes_with("sleep\x004322") == []


async def test_output_flood_is_capped(task_dir, cache_dir, tmp_path):
    async with _sandbox(task_dir, cache_dir, tmp_path, max_output_bytes=10_000) as env:
        result = await env.exec("echo START; yes flood | head -c 50000000; echo; echo END")
        assert result.stdout.startswith("START") and result.stdout.rstrip().endswith("END")
        assert len(result.stdout) < 12_000 and "omitted by the sandbox" in result.stdout


async def test_unshare_fallback_isolates_too(task_dir, cache_dir, tmp_path):
    async with _sandbox(task_dir, cache_dir, tmp_path, isolator="unshare") as env:
        result = await env.exec("echo x > /usr/local/fallback-probe; cat /usr/local/fallback-probe; ls -A /root | wc -l; pwd")
        assert result.stdout.split() == ["x", "0", "/app"]
    assert not Path("/usr/local/fallback-probe").exists()



async def test_only_the_hosts_trust_store_paths_get_in(task_dir, cache_dir, tmp_path, monkeypatch):
    """CA-bundle paths under /etc or /usr pass (registries behind a TLS proxy); nothing else does."""
    monkeypatch.setenv("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "host-only-bundle.pem"))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "should-not-leak")
    async with _sandbox(task_dir, cache_dir, tmp_path) as env:
        listing = (await env.exec("env")).stdout
    assert "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt" in listing
    assert "REQUESTS_CA_BUNDLE" not in listing and "AWS_SECRET_ACCESS_KEY" not in listing
