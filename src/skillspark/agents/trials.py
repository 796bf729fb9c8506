"""The one trial runner of `run`, `eval` and `explore`: the model endpoint, a batch of trials, the rules.

Why one module: each command used to start the embedded server, walk its trials with a cost limit, retry
what the infrastructure broke and stop on a key the endpoint refused in its own copy, and the copies had
begun to differ. Trials themselves go through `skillspark.harbor.trials.run_trial`, so every trial still
leaves a normal Harbor trial directory; what a batch may spend is one `llm.budget.Budget`.
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from skillspark.llm.budget import Budget
from skillspark.llm.errors import AuthenticationFailed

if TYPE_CHECKING:
    from skillspark.harbor.tasks import Screening
    from skillspark.harbor.trials import AgentSpec, TrialOutcome

AGENT_IMPORT_PATH = "skillspark.agents.bash_agent:SkillsparkAgent"
MODEL_FREE_AGENTS = ("oracle", "nop")  # Harbor agents that never call a model

Unit = TypeVar("Unit")


def screen(task_dirs: list[Path], env: str) -> Screening:
    """The tasks of a batch that can run in `env`; one line for each left out (the rest of the batch runs).

    In the local sandbox a task's Dockerfile is also read, so one it cannot honour is left out up front.
    """
    from skillspark.harbor.envs import LOCAL_ENV
    from skillspark.harbor.tasks import screen_tasks
    from skillspark.sandbox.dockerfile import parse_dockerfile

    local = env.strip().lower() == LOCAL_ENV
    screening = screen_tasks(task_dirs, dockerfile_check=parse_dockerfile if local else None)
    screening.announce()
    return screening


@asynccontextmanager
async def model_endpoint(model: str, api_base: str | None, agent: str | None = None) -> AsyncIterator[str | None]:
    """The API base trials of `model` use: `api_base`, or the embedded server kept up while the context lasts.

    One server for a whole batch, not one started and stopped per trial. A model-free agent (oracle, nop)
    needs none.
    """
    from skillspark.llm.models import resolve_model

    if not resolve_model(model).is_local or api_base is not None or agent in MODEL_FREE_AGENTS:
        yield api_base
        return
    from skillspark.llm.local_server import local_model_endpoint

    if agent is not None:  # Harbor's own agents call it through litellm's OpenAI route, which wants some key
        os.environ.setdefault("OPENAI_API_KEY", "sk-local-no-key")
    async with local_model_endpoint() as base_url:
        yield base_url


def settle(budget: Budget, cost_usd: float | None, exception_type: str | None, exception_message: str | None) -> None:
    """Charge a finished trial to `budget`; raise `AuthenticationFailed` when its agent's key was refused.

    A refused key (401/403) is wrong for every task alike, so whoever runs trials stops starting them.
    """
    budget.add(cost_usd)
    if refused := AuthenticationFailed.recorded(exception_type, exception_message):
        raise refused


async def run_trial_retrying(task_dir: Path, agent: AgentSpec, *, env: str, trials_dir: Path,
                             infra_retries: int = 0, **trial_kwargs: Any) -> TrialOutcome:
    """One Harbor trial, run again (at most `infra_retries` more times) while the infrastructure fails it."""
    from skillspark.harbor.trials import run_trial

    for _ in range(infra_retries + 1):
        outcome = await run_trial(task_dir, agent=agent, env=env, trials_dir=trials_dir, **trial_kwargs)
        if outcome.status != "infra_error":
            break
    return outcome


async def run_batch(
    units: Sequence[Unit],
    trial: Callable[[Unit, float | None], Awaitable[TrialOutcome]],
    *,
    budget: Budget,
    parallelism: int = 1,
    on_result: Callable[[Unit, TrialOutcome], None] | None = None,
) -> list[tuple[Unit, TrialOutcome]]:
    """`trial(unit, dollars_left)` for each unit in order, `parallelism` at once; (unit, outcome) in that order.

    No trial starts once `budget` is spent. A trial whose key was refused is not reported, no further
    trial starts, and `AuthenticationFailed` is raised once the running ones end.
    """
    queue = deque(enumerate(units))
    done: dict[int, tuple[Unit, TrialOutcome]] = {}
    refused: list[AuthenticationFailed] = []

    async def worker() -> None:
        while queue and not refused and not budget.exhausted:
            i, unit = queue.popleft()
            outcome = await trial(unit, budget.remaining_usd)
            try:
                settle(budget, outcome.cost_usd, outcome.exception_type, outcome.exception_message)
            except AuthenticationFailed as error:  # raised below, once the running trials end
                refused.append(error)
                return
            done[i] = (unit, outcome)
            if on_result is not None:
                on_result(unit, outcome)

    await asyncio.gather(*(worker() for _ in range(parallelism)))
    if refused:
        raise refused[0]
    return [done[i] for i in sorted(done)]
