"""The two compose example tasks pass `tasks check` (oracle 1.0, nop below) and every `tasks audit` gate.

Slow: each builds the example images and runs several full compose trials through Harbor.
"""

import asyncio
from pathlib import Path

import pytest

from tests.examples import test_task_structure as structure

REPO = Path(__file__).resolve().parents[2]
COMPOSE_TASKS = sorted(p for p in (REPO / "examples/compose-tasks").iterdir() if (p / "task.toml").is_file())


def test_there_are_two_compose_examples_each_with_siblings():
    assert [p.name for p in COMPOSE_TASKS] == ["inventory-service-report", "kv-schema-migration"]
    for task in COMPOSE_TASKS:
        assert (task / "environment/docker-compose.yaml").is_file()


@pytest.mark.parametrize("task", COMPOSE_TASKS, ids=[p.name for p in COMPOSE_TASKS])
def test_compose_examples_follow_the_example_task_conventions(task):
    """The static checks every bundled task passes (Harbor's lint is left out: its compose rules need
    the Docker CLI), and a README line per task."""
    structure.test_required_files(task)
    structure.test_config_parses_with_harbor(task)
    structure.test_dockerfile_copy_sources_exist(task)
    structure.test_verifier_writes_reward_and_ctrf(task)
    structure.test_example_tests_run_without_pytest(task)
    for name in ("test.sh", "ctrf_runner.py"):  # the shared verifier, copied unchanged
        assert (task / "tests" / name).read_text() == (REPO / "examples/tasks/hello-greeting/tests" / name).read_text()
    assert f"`{task.name}`" in (REPO / "examples/compose-tasks/README.md").read_text()


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_compose_examples_pass_tasks_check(tmp_path):
    from skillspark.taskgen.check import check_tasks

    report = asyncio.run(check_tasks(COMPOSE_TASKS, trials_dir=tmp_path / "trials", parallelism=2))
    results = {t.task: (t.verdict, t.oracle.reward if t.oracle else None, t.nop.reward if t.nop else None)
               for t in report.tasks}
    assert results == {task.name: ("valid", 1.0, 0.0) for task in COMPOSE_TASKS}
    assert report.exit_code == 0


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_compose_examples_pass_every_audit_gate(tmp_path):
    from skillspark.taskgen.gates import GATE_NAMES, audit_tasks

    report = asyncio.run(audit_tasks(COMPOSE_TASKS, work_dir=tmp_path / "audit", parallelism=1))
    failed = {t.task: t.failed_gates for t in report.tasks if t.verdict != "accepted"}
    assert failed == {}
    assert all(set(t.gates) == set(GATE_NAMES) and all(g.ran and g.ok for g in t.gates.values())
               for t in report.tasks)
