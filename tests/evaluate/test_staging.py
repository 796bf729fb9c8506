"""Staging of an arm's skills: only a skill's own files, a digest of exactly them, and reading detection."""

from __future__ import annotations

from pathlib import Path

from skillspark.core.skill import skills_sha256, stage_skills
from skillspark.evaluate.results import result_status
from skillspark.evaluate.staging import prepare_task, skill_read, tree_sha256
from tests.agents.greet_task import make_task


def explore_folder(root: Path) -> Path:
    folder = root / "greet"
    for sub in ("scripts/lib", "references", "assets", "memos", "jobs/t1/verifier"):
        (folder / sub).mkdir(parents=True)
    (folder / "SKILL.md").write_text("---\nname: greet\ndescription: d\n---\nrun scripts/go.sh\n")
    (folder / "scripts" / "go.sh").write_text("echo hello\n")
    (folder / "scripts" / "lib" / "util.sh").write_text("true\n")
    (folder / "references" / "api.md").write_text("ref\n")
    (folder / "assets" / "logo.txt").write_text("logo\n")
    (folder / "scripts" / "answer").symlink_to(folder / "attempts.json")
    (folder / "attempts.json").write_text("{}")
    (folder / "trajectory.jsonl").write_text("{}\n")
    (folder / "memos" / "memo_v1.md").write_text("the answer is hello\n")
    (folder / "jobs" / "t1" / "verifier" / "reward.txt").write_text("1\n")
    (folder / "notes.md").write_text("not declared\n")
    return folder


def staged_files(dest: Path) -> list[str]:
    return sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file() or p.is_symlink())


def test_only_the_skills_own_files_are_staged(tmp_path):
    folder = explore_folder(tmp_path / "runs")
    digest = stage_skills([folder], tmp_path / "staged")
    assert staged_files(tmp_path / "staged") == [
        "greet/SKILL.md", "greet/assets/logo.txt", "greet/references/api.md", "greet/scripts/go.sh",
        "greet/scripts/lib/util.sh",
    ]
    assert digest == skills_sha256([folder]) and len(digest) == 64


def test_digest_follows_the_staged_text_only(tmp_path):
    folder = explore_folder(tmp_path / "runs")
    before = skills_sha256([folder])
    (folder / "trajectory.jsonl").write_text("changed\n")
    (folder / "memos" / "memo_v2.md").write_text("new memo\n")
    assert skills_sha256([folder]) == before  # explore's own files are not part of the skill
    (folder / "scripts" / "go.sh").write_text("echo bye\n")
    assert skills_sha256([folder]) != before
    assert skills_sha256([]) is None and stage_skills([], tmp_path / "none") is None
    assert not (tmp_path / "none").exists()


def test_restaging_replaces_what_was_there(tmp_path):
    folder = explore_folder(tmp_path / "runs")
    dest = tmp_path / "staged"
    (dest / "stale").mkdir(parents=True)
    (dest / "stale" / "SKILL.md").write_text("old")
    stage_skills([folder], dest)
    assert not (dest / "stale").exists()


def test_task_copy_has_no_bundled_skills_and_the_original_stays(tmp_path):
    task = make_task(tmp_path / "tasks", "bundled", dockerfile_extra="COPY skills /skills\n")
    (task / "environment" / "skills" / "tip").mkdir(parents=True)
    (task / "environment" / "skills" / "tip" / "SKILL.md").write_text("tip")
    digest = tree_sha256(task)
    copy = prepare_task(task, tmp_path / "out" / "tasks" / "bundled")
    assert not (copy / "environment" / "skills").exists()
    assert "skills" not in (copy / "environment" / "Dockerfile").read_text()
    assert (task / "environment" / "skills" / "tip" / "SKILL.md").is_file() and tree_sha256(task) == digest
    (task / "instruction.md").write_text("changed\n")
    assert tree_sha256(task) != digest


def test_skill_read_from_commands():
    names = ["greet"]
    assert skill_read(["cat /skills/greet/SKILL.md"], names)
    assert skill_read(["ls", "cat /skills/*/SKILL.md"], names)
    assert skill_read(["bash /root/.claude/skills/greet/scripts/go.sh"], names)
    assert skill_read(["cd /root/.agents/skills/greet && cat SKILL.md"], names)
    assert not skill_read(["ls /skills", "ls -1 /skills 2>/dev/null"], names)
    assert not skill_read(["cat /app/skills/greet/SKILL.md", "cat /skills/greeting/SKILL.md"], names)
    assert not skill_read(["cat /skills/greet/SKILL.md"], [])  # nothing staged: nothing to read


def test_result_status_keeps_infra_apart():
    assert result_status("ok", 1.0) == "pass"
    assert result_status("ok", 0.5) == "fail" and result_status("ok", None) == "fail"
    assert result_status("agent_timeout", None) == "fail"
    assert result_status("agent_error", None) == "error" and result_status("verifier_error", 1.0) == "error"
    assert result_status("infra_error", None) == "infra_error"


def test_a_linked_skill_md_is_refused_by_name_and_never_read(tmp_path):
    """Issue 19 finding 1: a SKILL.md linked to a host file must not be copied out, staged or hashed."""
    import pytest

    from skillspark.errors import UserError

    secret = tmp_path / "secret.txt"
    secret.write_text("root-only secret\n")
    folder = tmp_path / "library" / "leak"
    folder.mkdir(parents=True)
    (folder / "SKILL.md").symlink_to(secret)
    for call in (lambda: skills_sha256([folder]), lambda: stage_skills([folder], tmp_path / "staged")):
        with pytest.raises(UserError, match=r"leak/SKILL.md: a symbolic link; .* replace the link by a copy"):
            call()
    assert not any(p.is_file() for p in (tmp_path / "staged").rglob("*"))


def test_a_fifo_skill_md_is_refused_without_blocking(tmp_path):
    import os

    import pytest

    from skillspark.errors import UserError

    folder = tmp_path / "fifo"
    folder.mkdir()
    os.mkfifo(folder / "SKILL.md")
    with pytest.raises(UserError, match="not a regular file"):
        skills_sha256([folder])


def test_a_huge_sparse_file_is_refused_before_anything_is_read_or_copied(tmp_path):
    """Issue 19 finding 10: a 1 GiB sparse file in scripts/ is refused by its size, with one clear error."""
    import pytest

    from skillspark.core.skill import MAX_SKILL_BYTES
    from skillspark.errors import UserError

    folder = explore_folder(tmp_path / "runs")
    with (folder / "scripts" / "blob.bin").open("wb") as handle:
        handle.truncate(2**30)
    with pytest.raises(UserError, match=r"over the 8,388,608-byte cap of one skill \(largest: .*blob.bin, "
                                        r"1,073,741,824 bytes\)"):
        stage_skills([folder], tmp_path / "staged")
    assert not (tmp_path / "staged").exists()
    (folder / "scripts" / "blob.bin").unlink()
    (folder / "scripts" / "big.bin").write_bytes(b"x" * (MAX_SKILL_BYTES - 1000))
    assert stage_skills([folder], tmp_path / "staged")  # just under the cap still stages


def test_a_file_that_grows_while_staged_stops_the_copy(tmp_path, monkeypatch):
    import pytest

    from skillspark.core import skill as staging
    from skillspark.errors import UserError

    folder = explore_folder(tmp_path / "runs")
    real = staging.skill_files
    monkeypatch.setattr(staging, "skill_files", lambda folders: [(rel, src, max(0, size - 3))
                                                                 for rel, src, size in real(folders)])
    with pytest.raises(UserError, match="changed size while it was read"):
        stage_skills([folder], tmp_path / "staged")
