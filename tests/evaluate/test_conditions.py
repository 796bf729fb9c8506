"""The arms of `skillspark eval`: parsing `--condition` and which skill folders each arm gives a task."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from skillspark.core.skill import Skill
from skillspark.errors import UserError
from skillspark.evaluate.conditions import (
    PLACEBO_DIR,
    explore_cost_usd,
    generated_folder,
    parse_conditions,
    skill_sources,
)


def skill(folder: Path, name: str) -> Path:
    (folder / name).mkdir(parents=True)
    (folder / name / "SKILL.md").write_text(f"---\nname: {name}\ndescription: d\n---\nbody\n")
    return folder / name


def test_every_kind_parses_in_any_order(tmp_path):
    skill(tmp_path / "lib", "a")
    arms = parse_conditions(["placebo", f"library={tmp_path / 'lib'}", "none", "curated", f"generated={tmp_path}"])
    assert [(c.kind, c.label) for c in arms] == [("placebo", "placebo"), ("library", "library"), ("none", "none"),
                                                 ("curated", "curated"), ("generated", "generated")]
    assert arms[1].source == (tmp_path / "lib").resolve() and not arms[2].has_skills


def test_two_explore_runs_get_labels_of_their_folders(tmp_path):
    (tmp_path / "pdi").mkdir()
    (tmp_path / "plain").mkdir()
    arms = parse_conditions(["none", f"generated={tmp_path / 'pdi'}", f"generated={tmp_path / 'plain'}"])
    assert [c.label for c in arms] == ["none", "generated:pdi", "generated:plain"]


@pytest.mark.parametrize(("value", "message"), [
    ("bogus", "--condition bogus: unknown condition"),
    ("generated", "generated needs a folder; write --condition generated=DIR"),
    ("none=x", "none takes no folder"),
    ("library=/nonexistent/skills", "is not a directory"),
])
def test_bad_conditions_are_one_line_errors(value, message):
    with pytest.raises(UserError, match=message) as error:
        parse_conditions(["none", value])
    assert "\n" not in str(error.value)


def test_refused_repeats_and_empty_library(tmp_path):
    with pytest.raises(UserError, match="--condition none: given twice"):
        parse_conditions(["none", "none"])
    with pytest.raises(UserError, match="no sub-folder holds a SKILL.md"):
        parse_conditions([f"library={tmp_path}"])
    with pytest.raises(UserError, match="none given"):
        parse_conditions([])


def test_sources_per_arm(tmp_path):
    task = tmp_path / "tasks" / "greet"
    skill(task / "environment" / "skills", "tip")
    (task / "environment" / "skills" / "notes").mkdir()  # no SKILL.md: not a skill
    runs = tmp_path / "runs"
    explored = skill(runs, "greet")
    lib = tmp_path / "lib"
    skill(lib, "b"), skill(lib, "a")
    none, curated, generated, placebo, library = parse_conditions(
        ["none", "curated", f"generated={runs}", "placebo", f"library={lib}"])

    assert skill_sources(none, "greet", task) == []
    assert skill_sources(curated, "greet", task) == [task / "environment" / "skills" / "tip"]
    assert skill_sources(generated, "greet", task) == [explored.resolve()]
    assert skill_sources(placebo, "greet", task) == [PLACEBO_DIR / "morse-code"]
    assert [p.name for p in skill_sources(library, "greet", task)] == ["a", "b"]
    other = tmp_path / "tasks" / "other"
    assert skill_sources(curated, "other", other) is None  # bundles nothing: reported, not run
    assert skill_sources(generated, "other", other) is None  # explore distilled nothing for it


def test_generated_matches_explore_folder_names(tmp_path):
    task = tmp_path / "My Task"
    runs = tmp_path / "runs"
    assert generated_folder(runs, "My Task", task) is None
    digest = hashlib.sha256(str(task.resolve()).encode()).hexdigest()[:8]
    suffixed = skill(runs, f"my-task-{digest}")  # explore's name when two tasks shared one
    assert generated_folder(runs, "My Task", task) == suffixed
    plain = skill(runs, "my-task")
    assert generated_folder(runs, "My Task", task) == plain


def test_placebo_is_a_valid_skill_and_teacher_cost_is_read(tmp_path):
    assert Skill(path=PLACEBO_DIR / "morse-code").problems() == []
    (tmp_path / "spend.json").write_text('{"spent_usd": 1.25}')
    generated, none = parse_conditions([f"generated={tmp_path}", "none"])
    assert explore_cost_usd(generated) == 1.25 and explore_cost_usd(none) is None
    (tmp_path / "spend.json").write_text("not json")
    assert explore_cost_usd(generated) is None


def test_a_linked_skill_md_is_listed_so_staging_refuses_it_by_name(tmp_path):
    """Issue 19 finding 1: a link (even a dangling one) is not skipped in silence nor followed; linked folders are skipped."""
    from skillspark.evaluate.conditions import generated_folder, skill_sources

    library = tmp_path / "L"
    (library / "leak").mkdir(parents=True)
    (library / "leak" / "SKILL.md").symlink_to(tmp_path / "nowhere")
    (library / "elsewhere").symlink_to(tmp_path)
    [condition] = parse_conditions([f"library={library}"])
    assert skill_sources(condition, "t", tmp_path) == [library / "leak"]
    (tmp_path / "runs" / "t").mkdir(parents=True)
    (tmp_path / "runs" / "t" / "SKILL.md").symlink_to("/etc/shadow")
    assert generated_folder(tmp_path / "runs", "t", tmp_path / "t") == tmp_path / "runs" / "t"
