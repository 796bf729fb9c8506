"""Guarantees from the attacker-minded review (issue 7): each test fails if its hole reopens.

Where it matters a positive control shows the action itself works (outside the restriction), so a
test cannot pass because the sandbox is broken in some other way.
"""

import os
import stat
import uuid
from pathlib import Path

import pytest

from skillspark.sandbox.download import DownloadCaps, copy_dir_out
from skillspark.sandbox.hostmask import private_entries, scrub_passwords
from skillspark.sandbox.idmap import SANDBOX_ID_BASE
from skillspark.sandbox.limits import Limits, open_files_cap
from skillspark.sandbox.session import task_sandbox

as_root = pytest.mark.skipif(os.getuid() != 0, reason="the id range and idmapped mounts need host root")


def _sandbox(task_dir, cache_dir, tmp_path, name="hello", **kwargs):
    return task_sandbox(task_dir(name), trial_dir=tmp_path / "trial", cache_dir=cache_dir, **kwargs)


@as_root
async def test_sandbox_root_is_not_host_root_yet_owns_the_image(task_dir, cache_dir, tmp_path):
    async with _sandbox(task_dir, cache_dir, tmp_path) as env:
        uid_map = (await env.exec("cat /proc/self/uid_map")).stdout.split()
        assert uid_map == ["0", str(SANDBOX_ID_BASE), "65536"]
        owners = await env.exec("stat -c %u:%g /usr/bin/env /etc/passwd && touch /usr/local/bin/mine && "
                                "chown 1000:1000 /usr/local/bin/mine && stat -c %u /usr/local/bin/mine")
        assert owners.stdout.split() == ["0:0", "0:0", "1000"]  # image files look root's; chown works
        sleeper = await env.exec("sleep 321 & echo $!")
        assert sleeper.return_code == 0
    # seen from the host, a process of the sandbox's root ran as the unprivileged id (checked above via
    # the map; here: no file the sandbox made is left on the host at all)
    assert not Path("/usr/local/bin/mine").exists()


@as_root
async def test_kernel_settings_are_read_only(task_dir, cache_dir, tmp_path):
    before = {name: Path(f"/proc/sys/{name}").read_text() for name in ("fs/file-max", "kernel/core_pattern")}
    async with _sandbox(task_dir, cache_dir, tmp_path) as env:
        for name, value in before.items():
            result = await env.exec(f"cat /proc/sys/{name} && echo '{value.strip()}' > /proc/sys/{name}")
            assert result.stdout.strip() == value.strip()  # readable ...
            assert result.return_code != 0, name  # ... but not writable
        drop = await env.exec("echo 3 > /proc/sys/vm/drop_caches")
        assert drop.return_code != 0
        sysrq = await env.exec("test ! -e /proc/sysrq-trigger || echo h > /proc/sysrq-trigger")
        assert sysrq.return_code != 0 or not Path("/proc/sysrq-trigger").exists()
    assert {name: Path(f"/proc/sys/{name}").read_text() for name in before} == before


@as_root
async def test_host_private_files_are_hidden(task_dir, cache_dir, tmp_path):
    marker = uuid.uuid4().hex
    secret_file = Path(f"/etc/skillspark-secret-{marker}")
    secret_dir = Path(f"/var/lib/skillspark-private-{marker}")
    public_file = Path(f"/etc/skillspark-public-{marker}")
    secret_file.write_text(f"secret-{marker}")
    secret_file.chmod(0o600)
    secret_dir.mkdir(mode=0o700)
    (secret_dir / "data").write_text(f"secret-{marker}")
    public_file.write_text(f"public-{marker}")  # control: world-readable host files stay visible
    try:
        async with _sandbox(task_dir, cache_dir, tmp_path) as env:
            seen = await env.exec(f"cat {public_file}; cat {secret_file}; ls -A {secret_dir}; stat -c %a {secret_dir}; "
                                  f"grep -r {marker} /etc /var 2>/dev/null | grep -v public")
            shadow = await env.exec("cut -d: -f2 /etc/shadow | sort -u")
    finally:
        secret_file.unlink()
        public_file.unlink()
        (secret_dir / "data").unlink()
        secret_dir.rmdir()
    assert f"public-{marker}" in seen.stdout
    assert f"secret-{marker}" not in seen.stdout
    assert "700" in seen.stdout  # the private dir is there, empty, with its mode
    assert not any(field.startswith("$") for field in shadow.stdout.split())  # no password hash inside


def test_private_entries_and_password_scrub(tmp_path):
    (tmp_path / "etc/ssl/private").mkdir(parents=True)
    (tmp_path / "etc/ssl/private").chmod(0o710)
    (tmp_path / "etc/ssl/private/key.pem").write_text("k")
    (tmp_path / "etc/hosts").write_text("127.0.0.1 localhost\n")
    (tmp_path / "etc/shadow").write_text("root:$6$salt$hash:20000:0:99999:7:::\nbin:*:1::::::\nbob:!:1::::::\n")
    (tmp_path / "etc/shadow").chmod(0o640)
    (tmp_path / "var/lib/db").mkdir(parents=True)
    (tmp_path / "var/lib/db").chmod(0o700)
    found = [rel for rel, _ in private_entries(tmp_path)]
    assert found == ["etc/shadow", "etc/ssl/private", "var/lib/db"]  # not the key inside the hidden dir
    scrubbed = scrub_passwords((tmp_path / "etc/shadow").read_text())
    assert scrubbed == "root:*:20000:0:99999:7:::\nbin:*:1::::::\nbob:!:1::::::\n"


_OPEN_INIT_FDS = """python3 -c "
import os
names = os.listdir('/proc/1/fd')
opened = 0
for name in names:
    try:
        os.close(os.open('/proc/1/fd/' + name, os.O_RDONLY))
        opened += 1
    except OSError:
        pass
print(len(names), 'opened', opened)"
"""


async def test_commands_see_only_stdio_descriptors(task_dir, cache_dir, tmp_path):
    listing = "python3 -c \"import os; print(sorted(int(f) for f in os.listdir('/proc/self/fd')))\""
    for offline in (False, True):
        async with _sandbox(task_dir, cache_dir, tmp_path, no_network=offline) as env:
            result = await env.exec(listing)
            assert result.stdout.strip() == "[0, 1, 2, 3]", result  # 3: the listing's own dir fd
            init_fds = await env.exec(_OPEN_INIT_FDS)
            assert init_fds.stdout.split()[0] not in ("", "0") and init_fds.stdout.split()[1:] == ["opened", "0"], init_fds
            # init's sockets cannot be reached through /proc either (init is not dumpable)


async def test_dev_is_read_only_and_shm_is_capped(task_dir, cache_dir, tmp_path):
    async with _sandbox(task_dir, cache_dir, tmp_path) as env:
        dev = await env.exec("echo x > /dev/planted")
        assert dev.return_code != 0 and "Read-only" in dev.stderr
        assert (await env.exec("echo ok > /dev/null && echo ok")).stdout == "ok\n"
        small = await env.exec("head -c 8000000 /dev/zero > /dev/shm/a && echo ok")
        assert small.stdout == "ok\n"
        big = await env.exec("head -c 100000000 /dev/zero > /dev/shm/b")
        assert big.return_code != 0 and "No space left" in big.stderr


@as_root
async def test_storage_larger_than_memory_is_on_disk_and_init_survives_oom(task_dir, cache_dir, tmp_path):
    # memory_mb = 128, storage_mb = 1024: a tmpfs layer made the OOM killer take init here
    async with _sandbox(task_dir, cache_dir, tmp_path, name="small-memory") as env:
        write = await env.exec("dd if=/dev/zero of=/app/big bs=1M count=400 status=none && stat -c %s /app/big")
        assert write.return_code == 0 and write.stdout.strip() == str(400 << 20), write
        hog = await env.exec("python3 -c 'x = bytearray(400 << 20); print(len(x))'")
        assert hog.return_code == 137  # the command is the OOM killer's pick ...
        assert env.sandbox.limits.oom_kills() >= 1  # (counted, so a dead init could be explained)
        assert (await env.exec("cat /proc/self/oom_score_adj; echo alive")).stdout.split() == ["500", "alive"]
        # ... never init. Init raises its own score for the instant of each spawn (init_server.OomScore), so
        # read it once this command's own spawn is over, not while init may still be lowering it back.
        assert (await env.exec("sleep 0.2; cat /proc/1/oom_score_adj")).stdout.strip() == "0"


def _copy(source: Path, target: Path, **kwargs):
    root = os.open(source, os.O_RDONLY | os.O_DIRECTORY)
    try:
        return copy_dir_out(root, "/", target, **kwargs)
    finally:
        os.close(root)


def test_copying_out_keeps_regular_files_only(tmp_path):
    host_secret = tmp_path / "host-secret"
    host_secret.write_text("host")
    source = tmp_path / "sandbox-logs"
    (source / "verifier").mkdir(parents=True)
    (source / "verifier/reward.txt").write_text("1")
    (source / "verifier/test-stdout.txt").symlink_to(host_secret)
    (source / "verifier/rootlink").symlink_to("/")
    os.mkfifo(source / "fifo")  # never opened: reading it would block the host forever
    os.mknod(source / "null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
    (source / "trajectory.json").write_text("forged")
    (source / "z-big.log").write_text("y" * 5000)
    target = tmp_path / "trial"
    target.mkdir()
    (target / "trajectory.json").write_text("the agent's own")
    report = _copy(source, target, caps=DownloadCaps(bytes=3000))
    assert (target / "verifier/reward.txt").read_text() == "1"
    assert not (target / "verifier/test-stdout.txt").exists() and not (target / "verifier/rootlink").exists()
    assert not (target / "fifo").exists() and not (target / "null").exists()
    assert (target / "trajectory.json").read_text() == "the agent's own"
    assert (target / "z-big.log").stat().st_size == 2999  # cut at the cap (3000 minus reward.txt's byte)
    assert host_secret.read_text() == "host" and report.files == 2
    assert len(report.skipped) == 6


async def test_planted_link_in_logs_never_reaches_the_host(task_dir, cache_dir, tmp_path):
    host_secret = tmp_path / "host-secret.txt"
    host_secret.write_text("host-only")
    async with _sandbox(task_dir, cache_dir, tmp_path) as env:
        planted = await env.exec(f"mkdir -p /logs/verifier && ln -sf {host_secret} /logs/verifier/test-stdout.txt "
                                 "&& ln -s / /logs/verifier/rootlink && echo 0 > /logs/verifier/reward.txt")
        assert planted.return_code == 0
        report = await env.download_dir("/logs/verifier", tmp_path / "trial" / "verifier")
    copied = tmp_path / "trial" / "verifier"
    assert (copied / "reward.txt").read_text() == "0\n"
    assert not (copied / "test-stdout.txt").exists() and not (copied / "rootlink").exists()
    assert all(not stat.S_ISLNK(p.lstat().st_mode) for p in copied.rglob("*"))
    assert {line.split(":")[0] for line in report.skipped} == {"test-stdout.txt", "rootlink"}


def test_open_files_cap_keeps_a_full_sandbox_under_half_the_host_table():
    assert open_files_cap(pids_max=1024, file_max=2_000_000) == 976  # 2,000,000 // 2048
    assert open_files_cap(pids_max=1024, file_max=2**63 - 1) == 65536  # a huge table: the upper bound
    assert open_files_cap(pids_max=4096, file_max=1_000_000) == 256  # a small one: the floor
    assert 1024 * open_files_cap(1024, 2_000_000) <= 2_000_000 // 2


async def test_open_files_are_capped_per_process(task_dir, cache_dir, tmp_path):
    cap = Limits().nofile
    async with _sandbox(task_dir, cache_dir, tmp_path) as env:
        limits = await env.exec("ulimit -Sn; ulimit -Hn; ulimit -n 1048576 || echo refused")
        assert limits.stdout.split() == [str(cap), str(cap), "refused"]
        opened = await env.exec("python3 -c \"\nfs = []\ntry:\n    while True: fs.append(open('/dev/null'))\n"
                                "except OSError as exc: print(len(fs) + 3, exc.errno)\"")
        assert opened.stdout.split() == [str(cap), "24"]  # EMFILE once stdio + the opened files reach the cap


def test_a_second_download_updates_its_own_files_but_never_the_hosts(tmp_path):
    source, target = tmp_path / "sandbox", tmp_path / "agent"
    source.mkdir()
    target.mkdir()
    (target / "trajectory.json").write_text("written by the host")
    written: set[Path] = set()
    (source / "log.txt").write_text("first")
    _copy(source, target, replaceable=written)
    (source / "log.txt").write_text("second")
    (source / "trajectory.json").write_text("forged")
    report = _copy(source, target, replaceable=written)
    assert (target / "log.txt").read_text() == "second"
    assert (target / "trajectory.json").read_text() == "written by the host"
    assert report.skipped == ["trajectory.json: the host already has this file"]


async def test_copying_out_a_missing_dir_says_which_in_one_error(task_dir, cache_dir, tmp_path):
    async with _sandbox(task_dir, cache_dir, tmp_path) as env:
        with pytest.raises(RuntimeError, match="download of /no/such/dir failed"):
            await env.download_dir("/no/such/dir", tmp_path / "out")
