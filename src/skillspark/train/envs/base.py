"""The one protocol every training environment speaks, so rollouts never care which family they play.

No torch and no TextWorld here: the trainer, the tests and the CLI import this for free.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Observation:
    """What the agent sees after reset; `objective` is the task description repeated in every prompt."""

    text: str
    admissible: list[str]
    objective: str


@dataclass(frozen=True)
class StepResult:
    """One turn's outcome. `reward` is this turn's score increment (not the running total).

    `invalid`: the action matched no admissible command, so the env did nothing; the trainer charges
    `actions.INVALID_ACTION_PENALTY` for it.
    """

    observation: str
    reward: float
    done: bool
    won: bool
    admissible: list[str]
    invalid: bool


class TextEnv(Protocol):
    """The shipped envs also have `walkthrough() -> list[str]`: winning commands from the start (an oracle
    for tests and benchmarks; never shown to the agent)."""

    spec: str
    game_id: str
    max_score: float

    def reset(self) -> Observation: ...

    def step(self, action: str) -> StepResult: ...

    def close(self) -> None: ...


INVALID_FEEDBACK = "Nothing happens: that is not one of the available commands."


def invalid_step(admissible: list[str]) -> StepResult:
    """The answer to an unparseable action: the game is not touched, so its state is exactly as before."""
    return StepResult(INVALID_FEEDBACK, 0.0, False, False, list(admissible), True)
