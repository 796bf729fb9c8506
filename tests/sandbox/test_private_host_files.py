"""Finding 6 of issue 19: root-only files under /opt and /usr/local (mode 0600) were readable inside.

The mask covered only /etc and /var. Each case plants real host files (removed afterwards) and reads
them from inside; a world-readable twin is the positive control (the path itself is visible).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from skillspark.sandbox.idmap import sandbox_mapping
from skillspark.sandbox.privatefiles import PrivateIndex
from skillspark.sandbox.session import task_sandbox

needs_idmap = pytest.mark.skipif(os.getuid() != 0, reason="the mask exists where the sandbox's root is idmapped (host root)")


@pytest.fixture
def planted():
    """Host files under /opt and /usr/local, removed after the test."""
    made: list[Path] = []

    def plant(folder: str, mode: int, text: str = "secret") -> Path:
        path = Path(folder) / f"skillspark-test-{uuid.uuid4().hex[:8]}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(mode)
        made.append(path)
        return path

    yield plant
    for path in made:
        path.unlink(missing_ok=True)


def _read_all(paths: list[Path]) -> str:
    return "; ".join(f"cat {path} 2>/dev/null || echo missing:{path.name}" for path in paths)


@needs_idmap
async def test_root_only_files_under_opt_and_usr_local_stay_hidden(planted, task_dir, cache_dir, tmp_path):
    assert sandbox_mapping().idmapped
    secrets = [planted("/opt", 0o600), planted("/usr/local/etc", 0o600), planted("/usr/local", 0o640)]
    public = planted("/opt", 0o644, "public")
    async with task_sandbox(task_dir("hello"), trial_dir=tmp_path / "t1", cache_dir=cache_dir) as env:
        seen = await env.exec(_read_all([*secrets, public]))
        # made private after the walk of this process: a new file, and a world-readable one chmod'ed 0600
        later, chmodded = planted("/opt", 0o600), planted("/usr/local/lib", 0o644, "was public")
        assert "was public" in (await env.exec(f"cat {chmodded}")).stdout  # the control: it is readable now
        chmodded.chmod(0o600)
    assert seen.stdout.split() == [*(f"missing:{path.name}" for path in secrets), "public"]
    async with task_sandbox(task_dir("hello"), trial_dir=tmp_path / "t2", cache_dir=cache_dir) as env:
        again = await env.exec(_read_all([later, chmodded, public]))
    assert again.stdout.split() == [f"missing:{later.name}", f"missing:{chmodded.name}", "public"]


def test_index_follows_chmod_create_delete_and_new_dirs(tmp_path):
    """The event-driven index against a fresh walk, after each kind of change."""
    (tmp_path / "opt/app").mkdir(parents=True)
    (tmp_path / "opt/app/config").write_text("x")
    index = PrivateIndex(tmp_path, ["opt", "usr"])
    assert index.current() == []

    def names():
        return [rel for rel, _ in index.current()]

    def fresh():
        return [rel for rel, _ in PrivateIndex(tmp_path, ["opt", "usr"]).current()]

    (tmp_path / "opt/app/config").chmod(0o600)
    assert names() == ["opt/app/config"] == fresh()
    (tmp_path / "opt/new/deep").mkdir(parents=True)
    (tmp_path / "opt/new/deep/key").write_text("k")
    (tmp_path / "opt/new/deep/key").chmod(0o400)
    assert names() == ["opt/app/config", "opt/new/deep/key"] == fresh()
    (tmp_path / "opt/app").chmod(0o700)  # a private dir is hidden whole: nothing under it is listed
    assert names() == ["opt/app", "opt/new/deep/key"] == fresh()
    (tmp_path / "opt/app").chmod(0o755)
    (tmp_path / "opt/app/config").unlink()
    assert names() == ["opt/new/deep/key"] == fresh()
    os.rename(tmp_path / "opt/new", tmp_path / "opt/moved")  # a moved dir: a full walk again
    assert names() == ["opt/moved/deep/key"] == fresh()
