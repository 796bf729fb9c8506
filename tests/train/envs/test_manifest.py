"""Validation games fixed and shared by every run; training games seeded and never among them."""

from __future__ import annotations

import pytest

from skillspark.errors import UserError
from skillspark.train.envs.manifest import training_games, validation_games


def test_validation_games_are_fixed_and_prefix_stable() -> None:
    games = validation_games("textworld:coin_collector", 50)
    assert games == validation_games("textworld:coin_collector?level=5", 50)
    assert validation_games("fake:choice", 10) == games[:10]
    assert len(set(games)) == 50


def test_training_games_follow_the_run_seed() -> None:
    first = training_games("fake:choice", 200, seed=1)
    assert first == training_games("fake:choice", 200, seed=1)
    assert first != training_games("fake:choice", 200, seed=2)
    assert len(set(first)) == 200
    assert all(0 <= game < 2**32 for game in first)


def test_training_and_validation_never_overlap() -> None:
    validation = set(validation_games("fake:corridor", 100_000))
    for seed in range(5):
        assert not validation & set(training_games("fake:corridor", 1000, seed))
    assert max(training_games("fake:corridor", 10_000, 0)) < min(validation)


def test_bad_counts_and_specs() -> None:
    with pytest.raises(UserError, match="-1 training games"):
        training_games("fake:choice", -1, seed=0)
    with pytest.raises(UserError, match="validation games asked for"):
        validation_games("fake:choice", 10**9)
    with pytest.raises(UserError, match="unknown env family"):
        validation_games("gym:cartpole", 3)
    assert validation_games("fake:choice", 0) == []
