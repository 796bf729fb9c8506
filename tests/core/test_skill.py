"""A skill folder: found one way, read without following links and only up to a cap, checked against the spec."""

from __future__ import annotations

import os

import pytest

from skillspark.core.skill import SKILL_FILE, Skill, byte_cap, find_skills, holds_skill, skill_dirs
from skillspark.errors import UserError

GOOD = "---\nname: {name}\ndescription: Build CSV reports; use when a task asks for one.\n---\n# Steps\nrun it\n"


def make(folder, text=None):
    folder.mkdir(parents=True)
    (folder / SKILL_FILE).write_text(GOOD.format(name=folder.name) if text is None else text, encoding="utf-8")
    return folder


def test_a_folder_of_skills_gives_its_skill_sub_folders_by_name_one_level_deep(tmp_path):
    make(tmp_path / "b-skill")
    make(tmp_path / "a-skill")
    (tmp_path / "notes").mkdir()
    make(tmp_path / "notes" / "deeper")  # below a non-skill folder: not searched
    make(tmp_path / "real" / "inner")
    (tmp_path / "linked").symlink_to(tmp_path / "real" / "inner")  # a link to a skill folder is left out
    assert [s.name for s in find_skills(tmp_path)] == ["a-skill", "b-skill"]


def test_a_skill_folder_is_its_own_only_skill_and_a_missing_folder_has_none(tmp_path):
    skill = make(tmp_path / "csv-report")
    make(skill / "scripts" / "nested")  # a skill inside a skill's folder is no second skill
    assert find_skills(skill) == [Skill(path=skill)]
    assert find_skills(tmp_path / "missing") == [] and find_skills(skill / SKILL_FILE) == []


def test_a_linked_skill_md_counts_as_a_skill_but_is_never_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("root-only content\n")
    folder = tmp_path / "skills" / "sneaky"
    folder.mkdir(parents=True)
    (folder / SKILL_FILE).symlink_to(secret)
    assert holds_skill(folder) and [s.name for s in find_skills(tmp_path / "skills")] == ["sneaky"]
    skill = Skill(path=folder)
    assert skill.read() is None and skill.read_bytes() is None
    [problem] = skill.problems()
    assert (problem.field, problem.message) == (SKILL_FILE, "not a regular file (links are not followed)")
    with pytest.raises(UserError, match="a symbolic link; skill files are read only from regular files"):
        skill.files()


def test_read_stops_at_the_cap_and_reports_the_whole_size(tmp_path):
    skill = Skill(path=make(tmp_path / "wide", "é" * 100))  # 2 bytes a character: 200 bytes
    found = skill.read(max_chars=10)
    assert found is not None and found.size == 200 and found.name == "wide"
    assert byte_cap(10) == 44 and found.text == "é" * 22  # 44 bytes read, whole characters
    assert skill.read().text == "é" * 100


def test_a_fifo_skill_md_is_skipped_without_blocking(tmp_path):
    folder = tmp_path / "fifo"
    folder.mkdir()
    os.mkfifo(folder / SKILL_FILE)
    assert Skill(path=folder).read() is None


def test_problems_name_the_spec_fields_and_a_missing_file(tmp_path):
    assert Skill(path=make(tmp_path / "csv-report")).problems() == []
    wrong = Skill(path=make(tmp_path / "other-name", GOOD.format(name="csv-report")))
    assert [(p.field, p.message) for p in wrong.problems()] == [
        ("name", "'csv-report' differs from its folder name 'other-name'")]
    (tmp_path / "empty").mkdir()
    [missing] = Skill(path=tmp_path / "empty").problems()
    assert (missing.skill, missing.field, missing.message) == (str(tmp_path / "empty"), SKILL_FILE, "missing")


def test_a_huge_skill_md_is_one_problem_found_by_its_size(tmp_path):
    folder = tmp_path / "huge"
    folder.mkdir()
    with (folder / SKILL_FILE).open("wb") as handle:
        handle.truncate(2**30)  # sparse: 1 GiB on paper, nothing read whole
    [problem] = Skill(path=folder).problems()
    assert (problem.field, problem.message) == (
        SKILL_FILE, "1,073,741,824 bytes, over the 8,388,608-byte cap of one skill")


def test_skill_dirs_says_what_to_pass_when_there_is_no_skill(tmp_path):
    with pytest.raises(UserError, match="is not a directory; pass a skill folder or a folder of skill folders"):
        skill_dirs(tmp_path / "missing")
    with pytest.raises(UserError, match=r"no SKILL.md found in .* \(.*/<name>/SKILL.md\)"):
        skill_dirs(tmp_path)
    assert skill_dirs(make(tmp_path / "one")) == [tmp_path / "one"]
