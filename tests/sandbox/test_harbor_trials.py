"""Harbor drives the sandbox end to end: oracle scores 1.0, nop 0.0, and the agent never sees tests."""

from pathlib import Path

from harbor.models.trial.config import AgentConfig, EnvironmentConfig, TaskConfig, TrialConfig
from harbor.trial.trial import Trial

IMPORT_PATH = "skillspark.sandbox.environment:LocalSandboxEnvironment"


async def _run(task: Path, trials_dir: Path, cache_dir: Path, **agent) -> object:
    config = TrialConfig(
        task=TaskConfig(path=task), trials_dir=trials_dir, agent=AgentConfig(**agent),
        environment=EnvironmentConfig(import_path=IMPORT_PATH, kwargs={"cache_dir": str(cache_dir)}),
    )
    trial = await Trial.create(config)
    return await trial.run()


def _reward(result) -> float | None:
    return (result.verifier_result.rewards or {}).get("reward") if result.verifier_result else None


async def test_oracle_scores_one_and_nop_zero(task_dir, cache_dir, tmp_path):
    oracle = await _run(task_dir("hello"), tmp_path, cache_dir, name="oracle")
    assert oracle.exception_info is None and _reward(oracle) == 1.0
    nop = await _run(task_dir("hello"), tmp_path, cache_dir, name="nop")
    assert nop.exception_info is None and _reward(nop) == 0.0


async def test_agent_phase_sees_neither_tests_nor_solution(task_dir, cache_dir, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    result = await _run(task_dir("hello"), tmp_path, cache_dir, import_path="probe_agent:ProbeAgent")
    assert result.exception_info is None
    probe = next(tmp_path.glob("*/agent/probe.txt")).read_text()
    assert probe.split("\n")[:2] == ["/tests absent", "/solution absent"]


async def test_links_an_agent_plants_in_logs_never_reach_the_trial_dir(task_dir, cache_dir, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    result = await _run(task_dir("hello"), tmp_path, cache_dir, import_path="probe_agent:PlantingAgent")
    assert result.exception_info is None
    trial = next(path for path in tmp_path.iterdir() if (path / "agent").is_dir())
    assert (trial / "agent" / "mounts.txt").read_text() == ""  # /logs/agent is no host bind inside
    everything = list(trial.rglob("*"))
    assert everything and not any(path.is_symlink() for path in everything)
    assert not (trial / "agent" / "planted-link").exists() and not (trial / "agent" / "planted-root").exists()
