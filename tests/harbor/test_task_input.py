"""Bad task input stays one line per task: invalid UTF-8, absurd task.toml values, legacy names, batches."""

import shutil
from pathlib import Path

import pytest
from harbor.models.task.task import Task

from skillspark.harbor.tasks import harbor_task_dir, inspect_task, load_task, screen_tasks
from skillspark.sandbox.dockerfile import parse_dockerfile

GOOD_TASK = Path(__file__).parents[1] / "taskgen" / "tasks" / "answer-42"


@pytest.fixture
def task(tmp_path: Path) -> Path:
    return Path(shutil.copytree(GOOD_TASK, tmp_path / "answer-42"))


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ("task.toml", "task.toml is not valid UTF-8 (byte 0xff on line 2); re-save it as UTF-8"),
        ("instruction.md", "instruction.md is not valid UTF-8 (byte 0xff on line 2); re-save it as UTF-8"),
        ("environment/Dockerfile", "environment/Dockerfile is not valid UTF-8 (byte 0xff on line 2); re-save it as UTF-8"),
    ],
)
def test_invalid_utf8_is_one_problem_naming_the_file_and_line(task: Path, relative: str, expected: str):
    path = task / relative
    lines = path.read_bytes().split(b"\n")
    path.write_bytes(b"\n".join([lines[0], b"# caf\xff", *lines[1:]]))  # Harbor's linter used to crash on this
    inspection = inspect_task(task)
    assert inspection.info is None
    assert inspection.problems == [expected]


def _task_toml(**values: str) -> str:
    """answer-42's task.toml with some `section__key` values replaced (as TOML literals)."""
    fields = {"verifier__timeout_sec": "60.0", "agent__timeout_sec": "60.0", "environment__build_timeout_sec": "120.0",
              "environment__cpus": "1", "environment__memory_mb": "512", "environment__storage_mb": "1024"} | values
    sections: dict[str, list[str]] = {}
    for field, literal in fields.items():
        section, key = field.split("__")
        sections.setdefault(section, []).append(f"{key} = {literal}")
    return "".join(f"[{section}]\n" + "\n".join(lines) + "\n\n" for section, lines in sections.items())


@pytest.mark.parametrize(
    ("field", "literal", "shown"),
    [
        ("environment__memory_mb", "1000000000000", "environment.memory_mb = 1000000000000"),
        ("environment__cpus", "-3", "environment.cpus = -3"),
        ("environment__storage_mb", "0", "environment.storage_mb = 0"),
        ("environment__build_timeout_sec", "-5", "environment.build_timeout_sec = -5.0"),
        ("agent__timeout_sec", "inf", "agent.timeout_sec = inf"),
        ("verifier__timeout_sec", "0", "verifier.timeout_sec = 0.0"),
    ],
)
def test_absurd_values_name_the_file_and_key(task: Path, field: str, literal: str, shown: str):
    (task / "task.toml").write_text(_task_toml(**{field: literal}))
    problems = inspect_task(task).problems
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"task.toml: {shown} is out of range; use a number from ")


def test_non_numeric_timeout_names_the_key(task: Path):
    (task / "task.toml").write_text(_task_toml(agent__timeout_sec='"ten"'))
    assert inspect_task(task).problems[0].startswith("task.toml: agent.timeout_sec: Input should be a valid number")


def test_values_at_the_bounds_are_accepted(task: Path):
    (task / "task.toml").write_text(_task_toml(environment__memory_mb="1048576", environment__cpus="0.5"))
    assert inspect_task(task).problems == []


def test_legacy_task_name_is_accepted_with_a_warning_and_runs_from_a_linked_copy(task: Path, tmp_path: Path):
    original = (task / "task.toml").read_text()
    (task / "task.toml").write_text('[task]\nname = "My Task!"\n' + original)
    info = load_task(task)
    assert info.name == "My-Task-"
    assert any("[task] name 'My Task!' is not in Harbor's org/name form" in w for w in info.warnings)

    copy = harbor_task_dir(task, tmp_path / "scratch")
    assert copy.name == "My-Task-" and copy != task
    assert Task(copy).name == "My-Task-"  # Harbor itself refuses the original
    with pytest.raises(ValueError, match="org/name"):
        Task(task)
    assert (task / "task.toml").read_text().startswith('[task]\nname = "My Task!"')  # the original is untouched
    assert (copy / "instruction.md").stat().st_ino == (task / "instruction.md").stat().st_ino  # hard links
    assert harbor_task_dir(task, tmp_path / "scratch") == copy  # reused, not copied again
    assert harbor_task_dir(GOOD_TASK, tmp_path / "scratch") == GOOD_TASK  # a proper name runs in place


def test_screening_keeps_good_tasks_and_lists_each_bad_one(task: Path, tmp_path: Path):
    alpine = Path(shutil.copytree(GOOD_TASK, tmp_path / "alpine"))
    dockerfile = alpine / "environment" / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace("debian:bookworm-slim", "alpine:3.19"))
    broken = Path(shutil.copytree(GOOD_TASK, tmp_path / "broken"))
    (broken / "instruction.md").write_bytes(b"\xff\xfe")

    screening = screen_tasks([task, alpine, broken, task], dockerfile_check=parse_dockerfile)
    assert [t.name for t in screening.tasks] == ["answer-42"]  # listed twice, kept once
    assert screening.refused[0].startswith("task alpine: ") and "alpine:3.19" in screening.refused[0]
    assert "--env docker" in screening.refused[0]
    assert screening.refused[1] == "task broken: instruction.md is not valid UTF-8 (byte 0xff on line 1); re-save it as UTF-8"
    # without the local sandbox's check (e.g. --env docker) alpine is fine
    assert len(screen_tasks([alpine], dockerfile_check=None).tasks) == 1
