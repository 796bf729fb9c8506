"""Uploads into the sandbox (Harbor's /tests before verification, /solution) trust nothing inside it.

They used to run the sandbox's own `sh`, `mkdir`, `cat` and `tar`, which an agent-phase command can
replace: a fake `tar` wrote forged tests in place of the real ones. The host now writes through the
sandbox's root itself (upload.py); a link planted on the way is refused, never followed.
"""

from __future__ import annotations

import os
import stat

import pytest

from skillspark.sandbox.idmap import sandbox_mapping
from skillspark.sandbox.session import task_sandbox
from skillspark.sandbox.upload import _libc, as_sandbox_root

FORGED = "#!/bin/bash\necho 1 > /logs/verifier/reward.txt  # forged\n"
# What a solution could leave behind: every tool the old upload ran, replaced by a forger that
# plants its own tests wherever the upload goes and notes that it ran (bash builtins only).
FAKE_TOOLS = r"""
printf '%s' "$1" > /root/forged.sh
for tool in tar cat mkdir sh dash; do
  rm -f /usr/bin/$tool
  printf '#!/bin/bash\n: > /tmp/fake-ran\nfor d in /tests /solution "${@: -1}"; do [ -d "$d" ] && printf "%%s" "$(</root/forged.sh)" > "$d/test.sh"; done\nexit 0\n' > /usr/bin/$tool
  chmod 755 /usr/bin/$tool
done
""".strip()


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


async def _inside(env, command: str) -> str:
    result = await env.exec(command)
    assert result.return_code == 0, result.stderr
    return result.stdout


async def test_replaced_tools_cannot_forge_the_uploaded_tests(task_dir, cache_dir, tmp_path):
    real = (task_dir("hello") / "tests" / "test.sh").read_text()
    async with task_sandbox(task_dir("hello"), trial_dir=tmp_path / "trial", cache_dir=cache_dir) as env:
        await _inside(env, f"bash -c {_quote(FAKE_TOOLS)} bash {_quote(FORGED)}")
        assert (await env.exec("tar --version; test -e /tmp/fake-ran")).return_code == 0  # the fakes are live
        await _inside(env, "rm -f /tmp/fake-ran")
        await env.upload_dir(task_dir("hello") / "tests", "/tests")
        await env.upload_file(task_dir("hello") / "tests" / "test.sh", "/solution/test.sh")
        uploaded = await _inside(env, 'printf "%s" "$(</tests/test.sh)"; echo; printf "%s" "$(</solution/test.sh)"')
        ran = (await env.exec("test -e /tmp/fake-ran")).return_code
    assert uploaded == real.rstrip("\n") + "\n" + real.rstrip("\n")
    assert ran != 0  # no program of the sandbox took part


async def test_a_planted_tests_link_is_refused_not_followed(task_dir, cache_dir, tmp_path):
    async with task_sandbox(task_dir("hello"), trial_dir=tmp_path / "trial", cache_dir=cache_dir) as env:
        await _inside(env, "ln -s /etc /tests && mkdir -p /solution && ln -s /root /solution/sub")
        with pytest.raises(RuntimeError, match=r"upload to /tests refused at /tests: a link"):
            await env.upload_dir(task_dir("hello") / "tests", "/tests")
        (tmp_path / "src" / "sub").mkdir(parents=True)
        (tmp_path / "src" / "sub" / "x.sh").write_text("real\n")
        with pytest.raises(RuntimeError, match=r"refused at /solution/sub: a link"):
            await env.upload_dir(tmp_path / "src", "/solution")
        with pytest.raises(RuntimeError, match=r"refused at /solution/sub: a link"):
            await env.upload_file(tmp_path / "src" / "sub" / "x.sh", "/solution/sub/x.sh")
        leaked = (await env.exec("ls /etc/test.sh /root/x.sh")).return_code
    assert leaked != 0  # nothing written through the links


async def test_a_planted_file_link_is_replaced_not_written_through(task_dir, cache_dir, tmp_path):
    async with task_sandbox(task_dir("hello"), trial_dir=tmp_path / "trial", cache_dir=cache_dir) as env:
        before = await _inside(env, 'printf "%s" "$(</etc/hostname)"')
        await _inside(env, "mkdir /tests && ln -s /etc/hostname /tests/test.sh && mkfifo /tests/pipe")
        (tmp_path / "src").mkdir()
        (tmp_path / "src" / "test.sh").write_text("real\n")
        (tmp_path / "src" / "pipe").write_text("not a fifo\n")
        await env.upload_dir(tmp_path / "src", "/tests")
        kinds = await _inside(env, "stat -c '%F' /tests/test.sh /tests/pipe")
        after = await _inside(env, 'printf "%s" "$(</etc/hostname)"')
    assert kinds.split("\n")[:2] == ["regular file", "regular file"]
    assert after == before


async def test_owner_modes_and_times_are_those_the_old_upload_gave(task_dir, cache_dir, tmp_path):
    source = tmp_path / "src"
    (source / "sub").mkdir(parents=True)
    (source / "run.sh").write_text("echo a\n")
    (source / "sub" / "secret.txt").write_text("b")
    os.symlink("run.sh", source / "alias")
    for path, mode in ((source / "run.sh", 0o750), (source / "sub" / "secret.txt", 0o600),
                       (source / "sub", 0o700), (source, 0o751)):
        os.chmod(path, mode)
    os.utime(source / "run.sh", (1_000_000_000, 1_000_000_000))
    async with task_sandbox(task_dir("hello"), trial_dir=tmp_path / "trial", cache_dir=cache_dir) as env:
        await env.upload_dir(source, "/up/dir")
        await env.upload_file(source / "run.sh", "/up/file/one.sh")
        listing = await _inside(env, "stat -c '%n %U:%G %a' /up /up/dir /up/dir/run.sh /up/dir/sub "
                                     "/up/dir/sub/secret.txt /up/file/one.sh; stat -c %Y /up/dir/run.sh; "
                                     "readlink /up/dir/alias")
    assert listing.split("\n") == [
        "/up root:root 755", "/up/dir root:root 751", "/up/dir/run.sh root:root 750", "/up/dir/sub root:root 700",
        "/up/dir/sub/secret.txt root:root 600", "/up/file/one.sh root:root 644", "1000000000", "run.sh", ""]


async def test_a_file_upload_over_an_executable_keeps_its_mode_as_cat_did(task_dir, cache_dir, tmp_path):
    """The audit probe restores an oracle's output with upload_file: an executable script must stay executable."""
    source = tmp_path / "restored.sh"
    source.write_text("echo restored\n")
    async with task_sandbox(task_dir("hello"), trial_dir=tmp_path / "trial", cache_dir=cache_dir) as env:
        await _inside(env, "mkdir -p /app && printf 'echo old\\n' > /app/run.sh && chmod 755 /app/run.sh")
        await env.upload_file(source, "/app/run.sh")
        await env.upload_file(source, "/app/new.sh")
        listing = await _inside(env, "stat -c '%n %a' /app/run.sh /app/new.sh; /app/run.sh")
    assert listing.split("\n") == ["/app/run.sh 755", "/app/new.sh 644", "restored", ""]


def test_acting_as_the_sandbox_root_is_undone(tmp_path):
    mapping = sandbox_mapping()
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    with as_sandbox_root(mapping):
        assert _libc.setfsuid(-1) == mapping.outside_uid
        if mapping.outside_uid != os.getuid():  # host root acting as the sandbox's root: no host rights
            with pytest.raises(PermissionError):
                (private / "x").write_text("x")
    assert _libc.setfsuid(-1) == os.getuid() and _libc.setfsgid(-1) == os.getgid()
    (private / "y").write_text("y")
    assert stat.S_IMODE(private.stat().st_mode) == 0o700
