"""Real trials: Harbor's Trial running the oracle and nop agents in the local bwrap sandbox."""

from pathlib import Path

import pytest

from skillspark.harbor.trials import NOP, ORACLE, AgentSpec, run_trial

pytestmark = pytest.mark.timeout(300)

SLOW_SOLVE = "#!/bin/bash\nsleep 3\necho 42 > /app/answer.txt\n"


async def test_oracle_reaches_one_and_nop_stays_at_zero(task_variant, tmp_path: Path):
    task = task_variant("answer-42")
    oracle = await run_trial(task, agent=ORACLE, trials_dir=tmp_path / "trials")
    assert oracle.status == "ok" and oracle.reward == 1.0 and oracle.passed
    assert oracle.rewards == {"reward": 1.0}
    assert oracle.task_name == "answer-42"
    assert oracle.trial_dir.parent == tmp_path / "trials" and (oracle.trial_dir / "result.json").is_file()
    assert oracle.ctrf["results"]["tests"] == [{"name": "test_answer_is_42", "status": "passed", "duration": 1}]
    assert "test_answer_is_42: passed" in oracle.verifier_stdout
    assert oracle.environment_setup_s is not None and oracle.duration_s >= oracle.environment_setup_s
    assert oracle.exception_type is None and oracle.infra_kind is None

    nop = await run_trial(task, agent=NOP, trials_dir=tmp_path / "trials")
    assert nop.status == "ok" and nop.reward == 0.0 and not nop.passed
    assert nop.ctrf["results"]["tests"][0]["status"] == "failed"
    assert nop.trial_dir != oracle.trial_dir


async def test_timeout_multiplier_is_respected(task_variant, tmp_path: Path):
    task = task_variant(
        "slow-answer",
        files={"solution/solve.sh": SLOW_SOLVE},
        replace={"task.toml": ("[agent]\ntimeout_sec = 60.0", "[agent]\ntimeout_sec = 2.0")},
    )
    rushed = await run_trial(task, agent=ORACLE, trials_dir=tmp_path / "trials")
    assert rushed.status == "agent_timeout" and rushed.reward == 0.0
    relaxed = await run_trial(task, agent=ORACLE, trials_dir=tmp_path / "trials", timeout_multiplier=4.0)
    assert relaxed.status == "ok" and relaxed.reward == 1.0


async def test_build_failure_is_infra_build(task_variant, tmp_path: Path):
    task = task_variant(
        "build-fails", replace={"environment/Dockerfile": ("WORKDIR /app", "WORKDIR /app\nRUN echo nope && exit 3")}
    )
    outcome = await run_trial(task, agent=ORACLE, trials_dir=tmp_path / "trials")
    assert (outcome.status, outcome.infra_kind) == ("infra_error", "build")
    assert "exit 3" in outcome.exception_message
    assert outcome.reward is None


async def test_oom_kill_of_the_solution_is_infra_oom(task_variant, tmp_path: Path):
    task = task_variant(
        "oom",
        files={"solution/solve.sh": "#!/bin/bash\nset -e\npython3 -c 'x = b\"y\" * (1024**3)'\necho 42 > /app/answer.txt\n"},
        replace={"task.toml": ("memory_mb = 512", "memory_mb = 64")},
    )
    outcome = await run_trial(task, agent=ORACLE, trials_dir=tmp_path / "trials")
    assert (outcome.status, outcome.infra_kind) == ("infra_error", "oom")


async def test_full_disk_is_infra_disk(task_variant, tmp_path: Path):
    task = task_variant(
        "disk",
        files={"solution/solve.sh": "#!/bin/bash\nset -e\nhead -c 200M /dev/zero > /app/big\necho 42 > /app/answer.txt\n"},
        replace={"task.toml": ("storage_mb = 1024", "storage_mb = 50")},
    )
    outcome = await run_trial(task, agent=ORACLE, trials_dir=tmp_path / "trials")
    assert (outcome.status, outcome.infra_kind) == ("infra_error", "disk")


async def test_verifier_without_reward_is_verifier_error(task_variant, tmp_path: Path):
    task = task_variant("no-reward", files={"tests/test.sh": "#!/bin/bash\necho checked nothing\n"})
    outcome = await run_trial(task, agent=ORACLE, trials_dir=tmp_path / "trials")
    assert outcome.status == "verifier_error" and outcome.exception_type == "RewardFileNotFoundError"
    assert "checked nothing" in outcome.verifier_stdout


async def test_agent_that_cannot_be_loaded_is_infra_setup(task_variant, tmp_path: Path):
    agent = AgentSpec(import_path="skillspark.no_such_module:Agent")
    outcome = await run_trial(task_variant("answer-42"), agent=agent, trials_dir=tmp_path / "trials")
    assert (outcome.status, outcome.infra_kind) == ("infra_error", "setup")
    assert "no_such_module" in outcome.exception_message and outcome.reward is None
