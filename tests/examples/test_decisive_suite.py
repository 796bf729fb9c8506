"""The decisive-skill suite (examples/decisive-tasks): each task is solvable only with its curated skill.

Fast and offline: the same structure checks as the other bundled tasks, and the proof that the skill is
decisive: the task's key token (below, kept out of the tasks themselves) is in the oracle and in the skill,
and in nothing the agent can read without the skill, neither in the task as it stands nor in the copy
that eval's `none` arm runs (bundled skills stripped). The slow tests audit the suite and run the embedded student on it.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from skillspark.agents.skills import TASK_SKILLS_DIR
from skillspark.core.skillspec import check_skill_text
from skillspark.evaluate.staging import prepare_task
from skillspark.harbor.dockerfile import parse_instructions

from . import test_task_structure as structure
from .conftest import DECISIVE_TASKS, REPO

ids = [p.name for p in DECISIVE_TASKS]
HIDDEN_FROM_AGENT = ("tests", "solution")  # Harbor mounts these only for the verifier and the oracle


# The fact each task's skill holds. Not in task.toml: a file of the task holding it would be one more place to check.
KEYS = {"deploy-codeword": "quokka", "release-unlock": "amber-falcon", "queue-mode-config": "lantern",
        "outbox-handoff": "hx7.flag", "report-profile-env": "tundra", "inventory-seal": "reseal-kite",
        "vault-passphrase": "marigold", "proxy-port": "873"}


def skill_key(task: Path) -> str:
    return KEYS[task.name]


def skill_files(task: Path) -> list[Path]:
    return sorted((task / "environment" / TASK_SKILLS_DIR).glob("*/SKILL.md"))


def visible_files(task: Path) -> list[Path]:
    """What the agent can read without the skill: the instruction and the build context outside skills/."""
    context = task / "environment"
    inside = [p for p in context.rglob("*") if p.is_file() and TASK_SKILLS_DIR not in p.relative_to(context).parts]
    return [task / "instruction.md", *sorted(inside)]


def test_suite_has_at_least_eight_tasks_and_a_readme_listing_them():
    assert len(DECISIVE_TASKS) >= 8 and sorted(KEYS) == ids
    readme = (REPO / "examples" / "decisive-tasks" / "README.md").read_text()
    for task in DECISIVE_TASKS:
        assert f"`{task.name}`" in readme, f"the suite's README does not list {task.name}"


@pytest.mark.parametrize("task", DECISIVE_TASKS, ids=ids)
def test_structure_like_every_bundled_task(task):
    structure.test_required_files(task)
    structure.test_config_parses_with_harbor(task)
    structure.test_harbor_lint_clean(task)
    structure.test_dockerfile_copy_sources_exist(task)
    structure.test_verifier_writes_reward_and_ctrf(task)
    structure.test_example_tests_run_without_pytest(task)


def test_verifier_copies_identical():
    for name in ("test.sh", "ctrf_runner.py"):
        assert len({(task / "tests" / name).read_text() for task in DECISIVE_TASKS}) == 1, f"tests/{name} drifted"


@pytest.mark.parametrize("task", DECISIVE_TASKS, ids=ids)
def test_the_key_is_in_the_oracle_and_the_skill_and_nowhere_else_the_agent_looks(task):
    key = skill_key(task)
    [skill] = skill_files(task)
    assert check_skill_text(skill.read_text(), skill.parent.name) == []
    assert key in skill.read_text() and key in (task / "solution" / "solve.sh").read_text()
    seen = [p.relative_to(task).as_posix() for p in visible_files(task) if key in p.read_text(errors="replace")]
    assert seen == [], f"the key {key!r} is readable without the skill in {seen}"


@pytest.mark.parametrize("task", DECISIVE_TASKS, ids=ids)
def test_the_none_arm_copy_holds_no_skill_and_the_image_copies_none(task, tmp_path):
    """Eval's `none` arm runs a stripped copy: nothing in it outside tests/ and solution/ holds the key."""
    copy = prepare_task(task, tmp_path / "none")
    key = skill_key(task)
    leaked = [p.relative_to(copy).as_posix() for p in copy.rglob("*")
              if p.is_file() and p.relative_to(copy).parts[0] not in HIDDEN_FROM_AGENT
              and key in p.read_text(errors="replace")]
    assert leaked == []
    for inst in parse_instructions((task / "environment" / "Dockerfile").read_text()):
        sources = shlex.split(inst.value)[:-1] if inst.keyword in ("COPY", "ADD") else []
        assert not any(s.strip("./").startswith(TASK_SKILLS_DIR) for s in sources), \
            f"the Dockerfile copies the skill into the image: {inst.keyword} {inst.value}"


@pytest.mark.parametrize("task", DECISIVE_TASKS, ids=ids)
def test_instruction_points_at_the_skills_and_the_answer_file(task):
    instruction = (task / "instruction.md").read_text()
    assert "documented in the team's skills" in instruction
    expected = (task / "tests" / "test_outputs.py").read_text()
    assert "/app/" in instruction and all(line not in instruction for line in expected.splitlines()
                                          if line.startswith("EXPECTED"))


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_every_task_passes_all_nine_audit_gates(tmp_path):
    import asyncio

    from skillspark.taskgen.gates import GATE_NAMES, audit_tasks

    report = asyncio.run(audit_tasks(DECISIVE_TASKS, work_dir=tmp_path / "audit", parallelism=2))
    failed = {t.task: t.failed_gates for t in report.tasks if t.verdict != "accepted"}
    assert failed == {}
    assert all(set(t.gates) == set(GATE_NAMES) and all(g.ran and g.ok for g in t.gates.values())
               for t in report.tasks)


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_the_embedded_student_solves_more_with_the_skills_inline_than_without(tmp_path):
    """The positive control itself, on the real SmolLM2: `curated` inline beats `none` on the suite."""
    import asyncio

    from skillspark.agents.skill_context import SkillsMode
    from skillspark.evaluate.conditions import parse_conditions
    from skillspark.evaluate.runner import EvalRequest, plan_eval, run_eval
    from skillspark.harbor.tasks import load_task

    req = EvalRequest(models=["local/smollm2"], conditions=parse_conditions(["none", "curated"]), k=1,
                      output=tmp_path / "out", max_steps=2, command_timeout_s=30, skills_mode=SkillsMode.inline)
    results = asyncio.run(run_eval(req, plan_eval(req, [load_task(t) for t in DECISIVE_TASKS])))

    passed = {arm: sum(r.passed for r in results if r.condition == arm) for arm in ("none", "curated")}
    assert len(results) == 2 * len(DECISIVE_TASKS) and all(r.skills_mode == "inline" for r in results)
    assert passed["none"] == 0  # nothing in reach without the skill: the suite's premise
    assert passed["curated"] > passed["none"], passed
