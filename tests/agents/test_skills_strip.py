"""`--no-task-skills`: the task copy loses environment/skills, the Dockerfile lines copying it, skills_dir."""

import re
from pathlib import Path

import pytest

from skillspark.agents.skills import (
    skill_folders,
    strip_skill_copies,
    strip_task_skills,
)
from skillspark.errors import UserError

DOCKERFILE = """\
FROM python:3.11-slim
WORKDIR /app
COPY skills /root/.claude/skills
COPY ./skills/ /skills/
COPY --chown=root:root skills/pdf \\
     /opt/skills/pdf
COPY data.csv skills /app/
COPY ["skills", "/etc/skills"]
ADD skills.tar.gz /tmp/
COPY --from=builder /skills /skills
RUN echo skills > /app/note
"""


def test_strip_skill_copies_removes_only_skill_sources():
    out = strip_skill_copies(DOCKERFILE)
    assert out.splitlines() == [
        "FROM python:3.11-slim",
        "WORKDIR /app",
        "COPY data.csv /app/",
        "ADD skills.tar.gz /tmp/",
        "COPY --from=builder /skills /skills",
        "RUN echo skills > /app/note",
    ]


def _task(tmp_path: Path) -> Path:
    task = tmp_path / "src" / "demo-task"
    (task / "environment" / "skills" / "pdf").mkdir(parents=True)
    (task / "environment" / "skills" / "pdf" / "SKILL.md").write_text("---\nname: pdf\n---\n")
    (task / "environment" / "Dockerfile").write_text(DOCKERFILE)
    (task / "instruction.md").write_text("do it\n")
    (task / "task.toml").write_text('[environment]\ncpus = 1\nskills_dir = "/skills"\n')
    return task


def test_strip_task_skills_makes_a_clean_copy(tmp_path):
    task = _task(tmp_path)
    copy = strip_task_skills(task, tmp_path / "copies")
    assert copy.name == "demo-task" and copy.parent == tmp_path / "copies"
    assert not (copy / "environment" / "skills").exists()
    assert "skills /root/.claude/skills" not in (copy / "environment" / "Dockerfile").read_text()
    assert (copy / "task.toml").read_text() == "[environment]\ncpus = 1\n"
    assert (copy / "instruction.md").read_text() == "do it\n"
    # the original is untouched
    assert (task / "environment" / "skills" / "pdf" / "SKILL.md").is_file()
    assert "skills_dir" in (task / "task.toml").read_text()


def test_skill_folders_lists_folders_with_skill_md(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "SKILL.md").write_text("x")
    (tmp_path / "notes").mkdir()
    assert skill_folders(tmp_path) == [tmp_path / "a"]


def test_skill_folders_rejects_bad_dirs(tmp_path):
    with pytest.raises(UserError, match="not a directory"):
        skill_folders(tmp_path / "missing")
    with pytest.raises(UserError, match="no sub-folder holds a SKILL.md"):
        skill_folders(tmp_path)
    (tmp_path / "SKILL.md").write_text("x")  # one skill, not a folder of them: it would land as /skills/SKILL.md
    with pytest.raises(UserError, match=re.escape(f"one skill folder; pass the folder that holds it ({tmp_path.parent})")):
        skill_folders(tmp_path)
