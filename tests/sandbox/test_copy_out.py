"""Finding 2 of issue 19: the copy-out of /logs trusted programs inside the sandbox.

It ran the sandbox's own `head` and `tar`, which a solution can replace: a fake `head` wrote past
the cap, a fake `tar` made the host create tens of thousands of entries, and `/logs/agent` turned
into a link to `/` copied the host's root out. The caps are configured small here (same semantics).
"""

from __future__ import annotations

import pytest

from skillspark.sandbox.session import task_sandbox

MIB = 1 << 20
# Replace the sandbox's head and tar (usrmerge: /bin is /usr/bin) with liars, as a solution could.
FAKE_TOOLS = r"""
for tool in head tar; do
  rm -f /usr/bin/$tool
  printf '#!/bin/sh\n%s\n' "$1" > /usr/bin/$tool && chmod 755 /usr/bin/$tool
done
""".strip()
FAKE_HEAD = "exec python3 -c \"import sys; sys.stdout.buffer.write(b'x' * (3 << 20))\""
FAKE_TAR = ("exec python3 -c \"import io, sys, tarfile\nt = tarfile.open(fileobj=sys.stdout.buffer, mode='w|')\n"
            "for i in range(3000):\n  info = tarfile.TarInfo('d/f%d' % i); t.addfile(info, io.BytesIO())\nt.close()\"")


def _sandbox(task_dir, cache_dir, tmp_path, **kwargs):
    return task_sandbox(task_dir("hello"), trial_dir=tmp_path / "trial", cache_dir=cache_dir,
                        max_download_bytes=MIB, max_download_entries=100, **kwargs)


async def _replace_tools(env, body: str) -> None:
    replaced = await env.exec(f"sh -c {_quote(FAKE_TOOLS)} sh {_quote(body)}")
    assert replaced.return_code == 0, replaced.stderr


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


async def test_a_fake_head_cannot_write_past_the_cap_nor_change_the_file(task_dir, cache_dir, tmp_path):
    async with _sandbox(task_dir, cache_dir, tmp_path) as env:
        await env.exec("echo real > /logs/agent/oracle.txt && head -c 3145728 /dev/zero > /logs/agent/big.bin")
        await _replace_tools(env, FAKE_HEAD)
        assert (await env.exec("head -c 1 /etc/hostname", timeout_sec=30)).stdout.startswith("x" * 1000)  # the fake is live
        await env.download_file("/logs/agent/oracle.txt", tmp_path / "out" / "oracle.txt")
        await env.download_file("/logs/agent/big.bin", tmp_path / "out" / "big.bin")
    assert (tmp_path / "out" / "oracle.txt").read_text() == "real\n"
    assert (tmp_path / "out" / "big.bin").stat().st_size == MIB  # a real 3 MiB file is cut at the 1 MiB cap


async def test_a_fake_tar_cannot_make_the_host_create_entries(task_dir, cache_dir, tmp_path):
    async with _sandbox(task_dir, cache_dir, tmp_path) as env:
        made = await env.exec("mkdir -p /logs/agent/many && for i in $(seq 300); do : > /logs/agent/many/f$i; done; "
                              "echo ok > /logs/agent/result.txt")
        assert made.return_code == 0
        await _replace_tools(env, FAKE_TAR)
        report = await env.download_dir("/logs/agent", tmp_path / "out")
    copied = list((tmp_path / "out").rglob("*"))
    assert not (tmp_path / "out" / "d").exists()  # nothing of what the fake tar streamed
    assert len(copied) <= 100 and report.entries == 100
    assert any("over the 100 entries download cap" in line for line in report.skipped)


async def test_many_bytes_are_cut_at_the_cap_across_files(task_dir, cache_dir, tmp_path):
    async with _sandbox(task_dir, cache_dir, tmp_path) as env:
        await env.exec("for i in 1 2 3; do head -c 700000 /dev/zero > /logs/agent/part$i; done")
        report = await env.download_dir("/logs/agent", tmp_path / "out")
    total = sum(p.stat().st_size for p in (tmp_path / "out").iterdir())
    assert total == report.bytes == MIB


async def test_logs_agent_replaced_by_a_link_to_root_copies_nothing(task_dir, cache_dir, tmp_path):
    async with _sandbox(task_dir, cache_dir, tmp_path) as env:
        linked = await env.exec("rm -rf /logs/agent && ln -s / /logs/agent && ln -s / /logs/verifier/root "
                                "&& echo 1 > /logs/verifier/reward.txt")
        assert linked.return_code == 0
        with pytest.raises(RuntimeError, match="download of /logs/agent failed: a link"):
            await env.download_dir("/logs/agent", tmp_path / "agent")
        with pytest.raises(RuntimeError, match="download of /logs/agent/etc/hostname failed: a link"):
            await env.download_file("/logs/agent/etc/hostname", tmp_path / "hostname")
        report = await env.download_dir("/logs/verifier", tmp_path / "verifier")
    assert not (tmp_path / "agent").exists() or list((tmp_path / "agent").iterdir()) == []
    assert not (tmp_path / "hostname").exists()
    assert sorted(p.name for p in (tmp_path / "verifier").iterdir()) == ["reward.txt"]
    assert report.skipped == ["root: a link"]


async def test_a_fifo_in_logs_is_skipped_not_opened(task_dir, cache_dir, tmp_path):
    async with _sandbox(task_dir, cache_dir, tmp_path) as env:
        await env.exec("mkfifo /logs/verifier/pipe && echo 1 > /logs/verifier/reward.txt")
        report = await env.download_dir("/logs/verifier", tmp_path / "verifier")
        with pytest.raises(RuntimeError, match="not a regular file"):
            await env.download_file("/logs/verifier/pipe", tmp_path / "pipe")
    assert report.skipped == ["pipe: a special file"] and report.files == 1
