"""Open a task's sandbox outside a Harbor trial (for `skillspark sandbox ...`, tests, benchmarks).

Harbor's trial normally constructs the environment; here we do the same from a task directory,
with a throwaway trial dir for /logs, and turn a bad task directory into one UserError line.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from skillspark.errors import UserError


def load_task(task_dir: Path):
    """Harbor's Task for `task_dir`, or a UserError saying what is wrong with the directory."""
    from harbor.models.task.task import Task

    if not task_dir.is_dir():
        raise UserError(f"{task_dir}: no such task directory; pass a Harbor task dir (with task.toml)")
    if not (task_dir / "task.toml").is_file():
        raise UserError(f"{task_dir}/task.toml is missing; a Harbor task needs one")
    try:
        return Task(task_dir)
    except Exception as exc:  # Harbor raises TOML, pydantic and file errors alike
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"{task_dir}: {first} (fix the task definition)") from None


def agent_network_policy(task_config):
    """The network the task grants its agent, as a Harbor trial resolves it: a `no-network` task
    stays offline in `sandbox exec` and `sandbox shell` too, not only inside `harbor run`."""
    return task_config.agent.explicit_phase_policy() or task_config.environment.resolve_baseline()


@contextlib.asynccontextmanager
async def task_sandbox(task_dir: Path, *, trial_dir: Path | None = None, **env_kwargs) -> AsyncIterator:
    """A started LocalSandboxEnvironment for a task; stopped (and a temp trial dir removed) on exit."""
    from harbor.models.trial.paths import TrialPaths

    from skillspark.sandbox.environment import LocalSandboxEnvironment

    task = load_task(task_dir)
    own_dir = trial_dir is None
    root = Path(tempfile.mkdtemp(prefix="skillspark-trial-")) if own_dir else trial_dir
    paths = TrialPaths(root)
    paths.mkdir()
    env_kwargs.setdefault("network_policy", agent_network_policy(task.config))
    env = LocalSandboxEnvironment(
        environment_dir=task.paths.environment_dir, environment_name=task.name,
        session_id=f"{task.name}__sandbox", trial_paths=paths,
        task_env_config=task.config.environment, **env_kwargs,
    )
    try:
        await env.start(force_build=False)
        yield env
    finally:
        await env.stop(delete=True)
        if own_dir:
            shutil.rmtree(root, ignore_errors=True)
