"""Which games a run trains on and which it is judged on.

Validation games are a fixed reserved range, the same in every run and for every seed, so success rates of
different runs compare on the same games (the reference code's users found their gains shrink or
reverse on a fixed validation set: SDAR issue #58). Training games are drawn by the run seed from a
disjoint range, so no validation game is ever trained on.
"""

from __future__ import annotations

import random

from skillspark.errors import UserError
from skillspark.train.envs.registry import parse_env_spec
from skillspark.train.envs.seeds import TRAINING_SEEDS, VALIDATION_SEEDS


def validation_games(spec: str, n: int) -> list[int]:
    parse_env_spec(spec)
    _check_count(n, len(VALIDATION_SEEDS), "validation")
    return list(VALIDATION_SEEDS[:n])


def training_games(spec: str, n: int, seed: int) -> list[int]:
    parse_env_spec(spec)
    _check_count(n, len(TRAINING_SEEDS), "training")
    return random.Random(f"training-games#{seed}").sample(TRAINING_SEEDS, n)


def _check_count(n: int, most: int, kind: str) -> None:
    if not 0 <= n <= most:
        raise UserError(f"{n} {kind} games asked for: use 0 to {most}")
