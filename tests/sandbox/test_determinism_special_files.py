"""Finding 3 of issue 19: `RUN mkfifo /app/fifo` hung the determinism gate of `tasks audit` forever.

The gate hashed every layer entry by reading it; reading a fifo waits for a writer that never comes.
"""

from __future__ import annotations

import asyncio
import os
import stat

import pytest

from skillspark.taskgen.gates import determinism
from skillspark.taskgen.gates.image import layer_digest, layer_files


@pytest.mark.timeout(30)
def test_digest_of_a_layer_with_fifo_socket_and_whiteout_never_opens_them(tmp_path):
    app = tmp_path / "_root" / "app"
    app.mkdir(parents=True)
    (app / "data.txt").write_text("x")
    os.mkfifo(app / "fifo")
    os.mknod(app / "gone", stat.S_IFCHR | 0o000, os.makedev(0, 0))  # an overlay whiteout (needs root)
    (app / "link").symlink_to("/etc/passwd")
    digest = layer_digest(tmp_path)
    assert set(digest) == {"/app/data.txt", "/app/fifo", "/app/gone", "/app/link"}
    assert len(set(digest.values())) == 4  # a fifo, a whiteout, a link and a file all differ
    assert [image_path for image_path, _ in layer_files(tmp_path)] == ["/app/data.txt", "/app/link"]
    os.unlink(app / "fifo")
    (app / "fifo").write_text("")  # a regular file where the fifo was is a difference
    assert layer_digest(tmp_path)["/app/fifo"] != digest["/app/fifo"]


@pytest.mark.timeout(300)
def test_determinism_gate_rebuilds_a_task_with_a_fifo(tmp_path, monkeypatch, cache_dir):
    """The real gate on a real build: two builds of a Dockerfile that makes a fifo agree, and return."""
    from skillspark.sandbox.build import ensure_layer

    environment = tmp_path / "task" / "environment"
    environment.mkdir(parents=True)
    (environment / "Dockerfile").write_text("FROM debian:bookworm\nWORKDIR /app\nRUN mkfifo /app/fifo && echo hi > /app/hi.txt\n")
    monkeypatch.setattr(determinism, "_memo", lambda key: tmp_path / "memo" / f"{key}.json")
    layer = asyncio.run(ensure_layer(environment, cache_dir, dockerfile_text=(environment / "Dockerfile").read_text()))
    assert stat.S_ISFIFO(os.lstat(layer.path / "_root/app/fifo").st_mode)
    changed, remembered = asyncio.run(determinism.rebuild_differences(
        environment, layer.path, scratch=tmp_path / "scratch", timeout_sec=120))
    assert (changed, remembered) == ([], False)
