"""Tasks of one run that share a name get output folders of their own; other tasks keep the plain name; and
`--resume` over the same task paths (in any order, after a task changed) finds the same folders."""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import SimpleNamespace

from skillspark.core.skillspec import check_name, check_skill_text
from skillspark.explore.folders import task_folders
from skillspark.explore.loop import explore_tasks
from tests.explore.test_budget import PricedRunner, by_role, log, make_task, settings


def digest(task: Path) -> str:
    return hashlib.sha256(str(task.resolve()).encode()).hexdigest()[:8]


def legacy_task(root: Path, name: str) -> Path:
    """A task whose `[task] name` is a bare `greet`: Harbor runs it from a linked copy under the output."""
    task = make_task(root, "greet")
    toml = task / "task.toml"
    toml.write_text(toml.read_text().replace('name = "skillspark/greet"', f'name = "{name}"'))
    return task


async def test_same_named_tasks_get_their_own_folders_and_resume_reuses_them(scripted_llm, tmp_path):
    scripted_llm.responder = by_role
    first, second = legacy_task(tmp_path / "a", "greet"), legacy_task(tmp_path / "b", "greet")
    other = make_task(tmp_path / "c", "other")
    out = tmp_path / "out"
    runner = PricedRunner(0.0, pass_at=0)
    run = settings(scripted_llm, out, None)
    summaries = await explore_tasks([first, second, other], run, runner=runner)

    folders = [f"greet-{digest(first)}", f"greet-{digest(second)}", "other"]
    assert [Path(s.output_dir).name for s in summaries] == folders and digest(first) != digest(second)
    for folder in folders:
        assert [r["type"] for r in log(out, folder)] == ["execution_result", "skill_gen_call", "task_summary"]
        assert check_skill_text((out / folder / "SKILL.md").read_text(), folder) == []  # named like its folder

    (first / "instruction.md").touch()  # a new Harbor copy of the task; its folder stays
    resumed = await explore_tasks([other, second, first], run.model_copy(update={"resume": True}), runner=runner)
    assert [Path(s.output_dir).name for s in resumed] == [folders[2], folders[1], folders[0]]
    assert all(s.state == "solved" for s in resumed) and len(runner.calls) == 3  # found finished: nothing rerun
    assert sorted(p.name for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")) == sorted(folders)


def test_suffixed_names_stay_valid_skill_names():
    tasks = [SimpleNamespace(name="x" * 70, path=Path(f"/tasks/{i}")) for i in range(2)]
    long = task_folders(tasks)
    assert len(set(long)) == 2 and all(check_name(name) is None for name in long)
    assert task_folders([SimpleNamespace(name="My Task", path=Path("/t"))]) == ["my-task"]
