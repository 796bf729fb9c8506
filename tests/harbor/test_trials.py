"""Trial outcome helpers: failure classification, reward reduction (file reading: test_safe_read.py).

Real trials through Harbor and the sandbox are in tests/taskgen/test_trials_sandbox.py.
"""


from pathlib import Path

import pytest

from skillspark.harbor.trials import AgentSpec, classify_failure, scalar_reward


@pytest.mark.parametrize(
    ("exc_type", "phase", "evidence", "exit_code", "has_reward", "expected"),
    [
        (None, None, "", None, True, ("ok", None)),
        (None, None, "", 0, True, ("ok", None)),
        # resource exhaustion is infrastructure, wherever the evidence is
        (None, None, "", 137, True, ("infra_error", "oom")),
        (None, None, "line 3: 4 Killed python3\nMemoryError", 1, True, ("infra_error", "oom")),
        ("AddTestsDirError", "verifier", "tar: Cannot write: No space left on device", None, False, ("infra_error", "disk")),
        ("RuntimeError", "agent", "exec failed: exit code 137", None, False, ("infra_error", "oom")),
        ("MemoryLimitExceededError", "agent", "", None, False, ("infra_error", "oom")),
        # ...but only when something failed: a passing test that prints "MemoryError" is fine
        (None, None, "test_handles_MemoryError PASSED", None, True, ("ok", None)),
        # environment phase failures are builds; a start timeout is its own kind
        ("UserError", "environment", "base image 'alpine' is not supported", None, False, ("infra_error", "build")),
        ("SandboxBuildFailedError", "environment", "RUN exit 3", None, False, ("infra_error", "build")),
        ("ImportError", "setup", "no module named x", None, False, ("infra_error", "setup")),
        ("EnvironmentStartTimeoutError", "environment", "", None, False, ("infra_error", "start")),
        ("HealthcheckError", "agent_setup", "", None, False, ("infra_error", "start")),
        ("AgentTimeoutError", "agent", "timed out", None, False, ("agent_timeout", None)),
        (None, None, "", 124, True, ("agent_timeout", None)),
        ("RewardFileNotFoundError", "verifier", "", None, False, ("verifier_error", None)),
        ("VerifierTimeoutError", "verifier", "", None, False, ("verifier_error", None)),
        ("NonZeroAgentExitCodeError", "agent", "exit 1", None, False, ("agent_error", None)),
        ("APIConnectionError", "agent", "", None, False, ("agent_error", None)),
    ],
)
def test_classify_failure(exc_type, phase, evidence, exit_code, has_reward, expected):
    got = classify_failure(exc_type, phase=phase, evidence=evidence, agent_exit_code=exit_code, has_reward=has_reward)
    assert got == expected


def test_scalar_reward():
    assert scalar_reward({}) is None
    assert scalar_reward({"reward": 0.5, "other": 1}) == 0.5
    assert scalar_reward({"accuracy": 0.25}) == 0.25
    assert scalar_reward({"a": 1, "b": 0, "c": 0.5}) == pytest.approx(0.5)


def test_agent_spec_maps_to_harbor_agent_config():
    config = AgentSpec(import_path="pkg.mod:Agent", model="local/smollm2", kwargs={"max_steps": 3}).to_harbor()
    assert config.import_path == "pkg.mod:Agent" and config.name is None
    assert config.model_name == "local/smollm2" and config.kwargs == {"max_steps": 3}
    assert AgentSpec(name="nop").to_harbor().name == "nop"


@pytest.mark.parametrize("planted", [False, True])
def test_a_reward_harbor_read_through_a_planted_link_is_dropped(tmp_path, planted):
    from harbor.models.task.id import LocalTaskId
    from harbor.models.trial.config import TaskConfig, TrialConfig
    from harbor.models.trial.result import AgentInfo, TrialResult
    from harbor.models.verifier.result import VerifierResult

    from skillspark.harbor.trials import outcome_from_result

    trial_dir = tmp_path / "trial"
    (trial_dir / "verifier").mkdir(parents=True)
    host_reward = tmp_path / "host-reward.txt"
    host_reward.write_text("1\n")
    if planted:  # ln -s <host file holding 1> /logs/verifier/reward.txt
        (trial_dir / "verifier" / "reward.txt").symlink_to(host_reward)
    else:
        (trial_dir / "verifier" / "reward.txt").write_text("1\n")
    config = TrialConfig(task=TaskConfig(path=tmp_path), trials_dir=tmp_path, trial_name="trial")
    result = TrialResult(task_name="t", trial_name="trial", trial_uri="file:///x", task_id=LocalTaskId(path=tmp_path),
                         task_checksum="0", config=config, agent_info=AgentInfo(name="a", version="0"),
                         verifier_result=VerifierResult(rewards={"reward": 1.0}))  # what Harbor read
    outcome = outcome_from_result(result, trial_dir, 1.0)
    if planted:
        assert outcome.reward is None and not outcome.passed
        assert outcome.skipped_files == ["verifier/reward.txt: a symbolic link"]
    else:
        assert outcome.reward == 1.0 and outcome.passed and outcome.skipped_files == []


@pytest.mark.parametrize(
    ("exc_type", "phase", "expected"),
    [
        # a remote sandbox dropped a command or refused an upload mid-trial: not the agent's, not the verifier's
        ("RemoteSandboxError", "agent", ("infra_error", "environment")),
        ("RuntimeError", "verifier", ("infra_error", "environment")),
        # ...but Harbor's own verdicts stand, whatever the traceback passed through
        ("AgentTimeoutError", "agent", ("agent_timeout", None)),
        ("RewardFileNotFoundError", "verifier", ("verifier_error", None)),
        ("APIConnectionError", "agent", ("agent_error", None)),
    ],
)
def test_an_exception_out_of_the_environment_is_infrastructure(exc_type, phase, expected):
    assert classify_failure(exc_type, phase=phase, has_reward=False, from_environment=True) == expected
    if expected[0] == "infra_error":  # the same exception raised by the agent itself stays the agent's
        assert classify_failure(exc_type, phase=phase, has_reward=False)[0] != "infra_error"


def test_environment_files_are_the_class_and_its_environment_bases():
    from harbor.models.trial.config import EnvironmentConfig

    from skillspark.harbor.trials import environment_source_files, raised_in

    files = environment_source_files(EnvironmentConfig(import_path="tests.fakes.flaky_remote_env:FlakyRemoteEnvironment"))
    assert [Path(f).name for f in files] == ["flaky_remote_env.py", "environment.py"]
    assert "harbor/environments/base.py" not in " ".join(files)
    traceback = f'Traceback (most recent call last):\n  File "{files[0]}", line 52, in exec\nRemoteSandboxError: x'
    assert raised_in(traceback, files) and not raised_in(traceback, ()) and not raised_in(None, files)
    assert environment_source_files(EnvironmentConfig(import_path="no.such.module:Env")) == ()
