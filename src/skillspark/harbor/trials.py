"""Run Harbor trials and reduce each to a `TrialOutcome` that the rest of skillspark reads.

Harbor's `Trial` does the work (environment start, agent, verifier, result files); this module
builds its config, runs it, and answers the questions the callers ask: what was the reward, was a
failure the agent's fault or the infrastructure's (a build error, an OOM kill, a full disk, an
environment that would not start must never count against a strategy), what did the verifier
print and which tests passed (CTRF), what the agent ran. The trial dir's `agent/` and `verifier/` are the
sandbox's `/logs`, written by code we do not trust: every file in it is read through `TrialReader`
(no links followed, regular files only, bounded), and what it refused is listed in `skipped_files`.
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from skillspark.harbor.atif import is_trajectory, trajectory_commands, trajectory_output_tail
from skillspark.harbor.envs import LOCAL_ENV, environment_config
from skillspark.harbor.safe_read import TrialReader

TrialStatus = Literal["ok", "infra_error", "agent_error", "agent_timeout", "verifier_error"]
InfraKind = Literal["setup", "build", "oom", "disk", "start", "environment"]

VERIFIER_STDOUT_MAX_CHARS = 20_000
AGENT_OUTPUT_TAIL_CHARS = 4000
TRAJECTORY_FILE = "agent/trajectory.json"
TRAJECTORY_MAX_BYTES = 32 * 2**20
REWARD_FILES = ("verifier/reward.txt", "verifier/reward.json")
_OOM = re.compile(r"exit (code|status) 137|oomkilled|out of memory|cannot allocate memory|memoryerror")
_DISK_FULL = re.compile(r"no space left on device|disk quota exceeded|enospc")
_SANDBOX_OOM_TYPES = {"SandboxLikelyOutOfMemoryError", "MemoryLimitExceededError"}
_TIMEOUT_TYPES = {"AgentTimeoutError"}
_EXEC_TIMEOUT_EXIT = 124


class AgentSpec(BaseModel):
    """Which agent runs a trial: a Harbor agent name (oracle, nop, ...) or an import path."""

    name: str | None = None
    import_path: str | None = None
    model: str | None = None
    kwargs: dict[str, Any] = Field(default_factory=dict)

    def to_harbor(self):
        from harbor.models.trial.config import AgentConfig

        return AgentConfig(name=self.name, import_path=self.import_path, model_name=self.model, kwargs=self.kwargs)


ORACLE = AgentSpec(name="oracle")
NOP = AgentSpec(name="nop")


class TrialOutcome(BaseModel):
    """What one trial produced, whatever happened to it (trial failures are data, not exceptions)."""

    task_name: str
    trial_dir: Path
    reward: float | None = None
    rewards: dict[str, float] = Field(default_factory=dict)
    status: TrialStatus
    infra_kind: InfraKind | None = None  # set exactly when status == "infra_error"
    exception_type: str | None = None
    exception_message: str | None = None
    verifier_stdout: str = ""
    ctrf: dict[str, Any] | None = None
    n_input_tokens: int | None = None
    n_output_tokens: int | None = None
    cost_usd: float | None = None
    duration_s: float = 0.0
    environment_setup_s: float | None = None
    trajectory_path: Path | None = None
    agent_commands: list[str] = Field(default_factory=list)  # from the agent's ATIF trajectory, if any
    agent_output: str = ""  # the tail of its observations
    skipped_files: list[str] = Field(default_factory=list)  # "verifier/ctrf.json: a symbolic link", not read

    @property
    def passed(self) -> bool:
        return self.status == "ok" and self.reward is not None and self.reward >= 1.0


async def run_trial(
    task_dir: Path | str,
    *,
    agent: AgentSpec,
    env: str = LOCAL_ENV,
    trials_dir: Path,
    timeout_multiplier: float = 1.0,
    env_kwargs: dict[str, Any] | None = None,
    trial_name: str | None = None,
) -> TrialOutcome:
    """Run one Harbor trial of `task_dir` with `agent` in `env`; never raises for trial failures.

    A bad `env` name is the caller's input error and raises `UserError` before anything runs.
    """
    from harbor.models.trial.config import TaskConfig, TrialConfig

    task_dir = Path(task_dir).resolve()
    env_config = environment_config(env, **(env_kwargs or {}))
    trials_dir = Path(trials_dir).resolve()
    trials_dir.mkdir(parents=True, exist_ok=True)
    config = TrialConfig(
        task=TaskConfig(path=task_dir),
        trials_dir=trials_dir,
        trial_name=trial_name or "",
        timeout_multiplier=timeout_multiplier,
        agent=agent.to_harbor(),
        environment=env_config,
    )
    started = time.monotonic()
    try:
        result = await _run_harbor_trial(config)
    except Exception as exc:  # Trial.create failed (task, agent or environment unusable): nothing ran
        return _outcome_without_result(task_dir.name, trials_dir / config.trial_name, exc, time.monotonic() - started)
    return outcome_from_result(result, trials_dir / config.trial_name, time.monotonic() - started,
                               environment_files=environment_source_files(env_config))


async def _run_harbor_trial(config):
    from harbor.trial.trial import Trial

    trial = await Trial.create(config)
    return await trial.run()


def outcome_from_result(result, trial_dir: Path, duration_s: float,
                        environment_files: tuple[str, ...] = ()) -> TrialOutcome:
    """Reduce Harbor's `TrialResult` (plus the files in `trial_dir`) to a `TrialOutcome`.

    `environment_files`: the source files of the trial's environment class (`environment_source_files`);
    an exception whose traceback runs through one of them was raised by the environment.
    """
    files = TrialReader(trial_dir)
    stdout = files.text_tail("verifier/test-stdout.txt", VERIFIER_STDOUT_MAX_CHARS)
    rewards = dict(result.verifier_result.rewards) if result.verifier_result and result.verifier_result.rewards else {}
    if [name for name in REWARD_FILES if files.refused(name)]:
        rewards = {}  # Harbor has read a link or FIFO the agent planted: its value is not the verifier's
    exception = result.exception_info or next(
        (step.exception_info for step in result.step_results or [] if step.exception_info), None
    )
    exc_type = exception.exception_type if exception else None
    exc_message = exception.exception_message if exception else None
    exit_code = _agent_exit_code(files)
    # A script agent (the oracle) that exited non-zero left its own log: evidence too. An LLM
    # agent's logs are not, since its commands may hit "out of memory" on purpose and recover.
    script_logs = files.file_names("agent", ".txt") if exit_code else []
    evidence = "\n".join(
        [exc_message or "", exception.exception_traceback if exception else "", stdout[-4000:]]
        + [files.text_tail(log, 4000) for log in script_logs]
    )
    status, infra_kind = classify_failure(
        exc_type,
        phase=_failed_phase(result) if exception else None,
        evidence=evidence,
        agent_exit_code=exit_code,
        has_reward=bool(rewards),
        from_environment=bool(exception) and raised_in(exception.exception_traceback, environment_files),
    )
    n_input, _cache, n_output, cost = result.compute_token_cost_totals()
    trajectory = files.json(TRAJECTORY_FILE, TRAJECTORY_MAX_BYTES)
    if trajectory is not None and not is_trajectory(trajectory):
        files.skipped.append(f"{TRAJECTORY_FILE}: not an ATIF trajectory")
        trajectory = None
    ctrf = files.json("verifier/ctrf.json")
    return TrialOutcome(
        task_name=result.task_name,
        trial_dir=trial_dir,
        reward=scalar_reward(rewards),
        rewards={key: float(value) for key, value in rewards.items()},
        status=status,
        infra_kind=infra_kind,
        exception_type=exc_type,
        exception_message=exc_message,
        verifier_stdout=stdout,
        ctrf=ctrf if isinstance(ctrf, dict) else None,
        n_input_tokens=n_input,
        n_output_tokens=n_output,
        cost_usd=cost,
        duration_s=duration_s,
        environment_setup_s=_seconds(result.environment_setup),
        trajectory_path=trial_dir / TRAJECTORY_FILE if trajectory is not None else None,
        agent_commands=trajectory_commands(trajectory) if trajectory else [],
        agent_output=trajectory_output_tail(trajectory, AGENT_OUTPUT_TAIL_CHARS) if trajectory else "",
        skipped_files=files.skipped,
    )


def _outcome_without_result(task_name: str, trial_dir: Path, exc: Exception, duration_s: float) -> TrialOutcome:
    status, infra_kind = classify_failure(type(exc).__name__, phase="setup", evidence=str(exc))
    return TrialOutcome(
        task_name=task_name,
        trial_dir=trial_dir,
        status=status,
        infra_kind=infra_kind,
        exception_type=type(exc).__name__,
        exception_message=str(exc),
        duration_s=duration_s,
    )


def classify_failure(
    exc_type: str | None,
    *,
    phase: str | None,
    evidence: str = "",
    agent_exit_code: int | None = None,
    has_reward: bool = True,
    from_environment: bool = False,
) -> tuple[TrialStatus, InfraKind | None]:
    """Who is to blame for how a trial ended: ("ok" | agent | verifier | "infra_error", infra kind).

    `phase` is where the exception happened: "setup" (Harbor could not even create the trial),
    "environment" (build/start), "agent_setup", "agent" or "verifier".
    `evidence` is text the trial left (exception message and traceback, verifier output, agent
    logs). Resource exhaustion (exit 137, out of memory, full disk) is infrastructure wherever it
    shows up, but only counts when something actually failed: an exception, no reward, or a
    non-zero exit of the agent's script. `from_environment`: the exception came out of the environment's
    own code (a remote sandbox dropped a command or refused an upload mid-trial): infrastructure too,
    unless Harbor names it a verifier or model-provider failure.
    """
    from harbor.models.trial.error_policy import FailureCause, policy_for

    if exc_type is not None or not has_reward or agent_exit_code not in (None, 0):
        text = evidence.lower()
        if agent_exit_code == 137 or exc_type in _SANDBOX_OOM_TYPES or _OOM.search(text):
            return "infra_error", "oom"
        if _DISK_FULL.search(text):
            return "infra_error", "disk"
    if exc_type is None:
        # A script agent (the oracle) whose command was cut off by the environment's exec
        # timeout exits 124, like timeout(1), instead of raising Harbor's AgentTimeoutError.
        return ("agent_timeout", None) if agent_exit_code == _EXEC_TIMEOUT_EXIT else ("ok", None)
    if exc_type in _TIMEOUT_TYPES:
        return "agent_timeout", None
    cause = policy_for(exc_type).cause
    if phase == "setup":
        return "infra_error", "setup"
    if phase == "environment" or exc_type == "SandboxBuildFailedError":
        return "infra_error", "build" if exc_type != "EnvironmentStartTimeoutError" else "start"
    if cause == FailureCause.SANDBOX_FAILED:
        return "infra_error", "start"
    if from_environment and cause in (FailureCause.UNCLASSIFIED, FailureCause.HARBOR_FAILED):
        return "infra_error", "environment"
    if cause == FailureCause.VERIFIER_FAILED or phase == "verifier":
        return "verifier_error", None
    return "agent_error", None


def environment_source_files(env_config) -> tuple[str, ...]:
    """Source files of the environment class and of its environment base classes (Harbor's own base excluded).

    Empty when the class cannot be loaded here (then nothing is attributed to the environment).
    """
    import inspect

    from harbor.environments.base import BaseEnvironment

    try:
        if env_config.import_path:
            from harbor.utils.import_path import import_symbol

            cls = import_symbol(env_config.import_path)
        else:  # Harbor has no public lookup of a type's class; its factory's loader it is
            from harbor.environments.factory import _load_environment_class

            cls = _load_environment_class(env_config.type)
        return tuple(inspect.getfile(base) for base in cls.__mro__
                     if isinstance(base, type) and issubclass(base, BaseEnvironment) and base is not BaseEnvironment)
    except Exception:  # an environment SDK missing here, a class Harbor cannot load: no attribution
        return ()


def raised_in(traceback_text: str | None, files: tuple[str, ...]) -> bool:
    """Whether a formatted traceback has a frame in one of `files`."""
    return bool(traceback_text) and any(f'File "{path}"' in traceback_text for path in files)


def _failed_phase(result) -> str:
    """The last phase that started before the trial's exception."""
    for phase, timing in (
        ("verifier", result.verifier),
        ("agent", result.agent_execution),
        ("agent_setup", result.agent_setup),
    ):
        if timing is not None and timing.started_at is not None:
            return phase
    return "environment"


def _agent_exit_code(files: TrialReader) -> int | None:
    """Harbor's oracle records a non-zero solve.sh exit code in agent/exit-code.txt."""
    try:
        return int((files.text("agent/exit-code.txt", max_bytes=64) or "").strip())
    except ValueError:
        return None


def _seconds(timing) -> float | None:
    if timing is None or timing.started_at is None or timing.finished_at is None:
        return None
    delta: datetime = timing.finished_at - timing.started_at
    return delta.total_seconds()


def scalar_reward(rewards: dict[str, float | int]) -> float | None:
    """The trial's reward: the `reward` key, else the only value, else the mean of all values."""
    if not rewards:
        return None
    if "reward" in rewards:
        return float(rewards["reward"])
    values = [float(v) for v in rewards.values()]
    return sum(values) / len(values)


def ctrf_results(ctrf: dict[str, Any] | None) -> tuple[list[str], list[str]] | None:
    """Passed and failed test names of a CTRF report (skipped/pending count as neither); None without a test list."""
    results = ctrf.get("results") if isinstance(ctrf, dict) else None  # a verifier wrote it: any JSON at all
    tests = results.get("tests") if isinstance(results, dict) else None
    if not isinstance(tests, list):
        return None
    tests = [t for t in tests if isinstance(t, dict)]
    passed = [str(t.get("name")) for t in tests if t.get("status") == "passed"]
    failed = [str(t.get("name")) for t in tests if t.get("status") in ("failed", "error", "broken")]
    return passed, failed
