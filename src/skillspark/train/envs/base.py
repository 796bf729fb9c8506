"""The one protocol every training environment speaks, so rollouts never care which family they play.

No torch and no TextWorld here: the trainer, the tests and the CLI import this for free.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Demonstration:
    """One solved toy turn of a game, shown before every turn's prompt (student's and teacher's alike).

    Why: a 135M model copies the answer format of the last assistant turn it saw, and from a toy skill
    whose action the toy answer copies it learns that a skill's action is the one to write
    (docs/training-decisive.md). Toy names, so that it never gives a real game's answer away.
    """

    objective: str
    observation: str
    admissible: list[str]
    skill: str
    action: str


@dataclass(frozen=True)
class Observation:
    """What the agent sees after reset; `objective` is the task description repeated in every prompt."""

    text: str
    admissible: list[str]
    objective: str
    demonstration: Demonstration | None = None  # shown before each of this episode's prompts


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
