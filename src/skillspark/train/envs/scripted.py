"""What every scripted pure-python game shares: identity, seeded randomness, parsing, the end-of-game guard."""

from __future__ import annotations

import random

from skillspark.train.envs.actions import parse_action
from skillspark.train.envs.base import StepResult
from skillspark.train.envs.spec import EnvSpec


class ScriptedEnv:
    """The base of the fake games (fake.py, codeword.py); `_rng` is seeded by the game id."""

    def __init__(self, spec: EnvSpec, game_seed: int) -> None:
        self.spec = spec.canonical
        self.game_id = f"{spec.canonical}#{game_seed}"
        self._rng = random.Random(self.game_id)  # str seeds hash with sha512: the same in every process
        self._admissible: list[str] = []
        self._done = True

    def _parse(self, action: str) -> str | None:
        if self._done:
            raise RuntimeError(f"{self.game_id}: step() after the episode ended; call reset() first")
        return parse_action(action, self._admissible)

    def _end(self, observation: str, reward: float, won: bool) -> StepResult:
        self._done, self._admissible = True, []
        return StepResult(observation, reward, True, won, [], False)

    def _go_on(self, observation: str, reward: float, admissible: list[str]) -> StepResult:
        self._admissible = admissible
        return StepResult(observation, reward, False, False, list(admissible), False)

    def close(self) -> None:
        self._done = True
