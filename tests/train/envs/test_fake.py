"""The scripted fake games: winning, losing, invalid actions, determinism, and the skill's rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from skillspark.train.envs.base import INVALID_FEEDBACK
from skillspark.train.envs.fake import CHOICE_RULE, FAKE_SKILLS, write_fake_skill
from skillspark.train.envs.registry import make_env


def play(env, actions: list[str]):
    observation = env.reset()
    results = [env.step(action) for action in actions]
    return observation, results


@pytest.mark.parametrize("spec", ["fake:choice?turns=4&options=3", "fake:corridor?length=5"])
def test_walkthrough_wins_with_full_score(spec: str) -> None:
    env = make_env(spec, game_seed=11)
    observation, results = play(env, env.walkthrough())
    assert observation.objective and observation.admissible
    assert [result.done for result in results] == [False] * (len(results) - 1) + [True]
    assert results[-1].won and results[-1].admissible == []
    assert sum(result.reward for result in results) == env.max_score == len(results)
    assert not any(result.invalid for result in results)


def test_choice_wrong_button_loses_at_once() -> None:
    env = make_env("fake:choice?turns=3&options=4", game_seed=3)
    observation = env.reset()
    right = env.walkthrough()[0]
    wrong = next(command for command in observation.admissible if command != right)
    result = env.step(wrong)
    assert (result.done, result.won, result.reward, result.invalid) == (True, False, 0.0, False)
    with pytest.raises(RuntimeError, match="call reset"):
        env.step(right)


def test_choice_shows_options_and_follows_the_skill_rule() -> None:
    env = make_env("fake:choice?turns=6&options=5", game_seed=21)
    observation = env.reset()
    assert len(observation.admissible) == 5
    for _ in range(6):
        colour = observation.text.split("The lamp glows ")[1].split(".")[0]
        assert f"- {colour} lamp: press {CHOICE_RULE[colour]}" in FAKE_SKILLS["choice"]
        result = env.step(f"press {CHOICE_RULE[colour]}")
        observation = observation.__class__(result.observation, result.admissible, observation.objective)
    assert result.won


def test_corridor_pit_loses_and_going_back_earns_nothing() -> None:
    env = make_env("fake:corridor?length=3", game_seed=5)
    observation = env.reset()
    forward = env.walkthrough()
    assert f"breeze blows from the {forward[0].removeprefix('go ')}" in observation.text
    first = env.step(forward[0])
    assert first.reward == 1.0 and not first.done
    back = _back(forward[0])
    assert sorted(first.admissible) == sorted({forward[1], back, *first.admissible}) and len(first.admissible) == 3
    assert env.step(back).reward == 0.0
    again = env.step(forward[0])
    assert again.reward == 0.0 and not again.done  # room 2 was reached before
    (pit,) = set(again.admissible) - {forward[1], back}
    result = env.step(pit)
    assert (result.done, result.won, result.reward) == (True, False, 0.0)
    assert "pit" in result.observation


def _back(command: str) -> str:
    opposite = {"north": "south", "south": "north", "east": "west", "west": "east"}
    return f"go {opposite[command.removeprefix('go ')]}"


@pytest.mark.parametrize("spec", ["fake:choice", "fake:corridor"])
def test_invalid_action_leaves_the_state_unchanged(spec: str) -> None:
    env = make_env(spec, game_seed=8)
    observation = env.reset()
    result = env.step("dance wildly")
    assert result.invalid and not result.done and result.reward == 0.0
    assert result.observation == INVALID_FEEDBACK
    assert result.admissible == observation.admissible
    # the game goes on exactly as if the invalid turn had not happened
    twin = make_env(spec, game_seed=8)
    twin.reset()
    for action in env.walkthrough():
        assert env.step(action) == twin.step(action)


def test_numbered_answer_plays_the_listed_command() -> None:
    env = make_env("fake:choice?turns=1&options=4", game_seed=2)
    observation = env.reset()
    index = observation.admissible.index(env.walkthrough()[0]) + 1
    assert env.step(f"Action: {index}.").won


@pytest.mark.parametrize("spec", ["fake:choice?options=8&turns=10", "fake:corridor?length=10"])
def test_deterministic_per_seed_and_varied_across_seeds(spec: str) -> None:
    def trace(seed: int) -> tuple:
        env = make_env(spec, game_seed=seed)
        observation = env.reset()
        return (observation, env.walkthrough(), env.game_id)

    assert trace(1) == trace(1)
    assert len({str(trace(seed)[:2]) for seed in range(6)}) == 6
    assert trace(1)[2] != trace(2)[2]


def test_reset_replays_the_same_game() -> None:
    env = make_env("fake:corridor?length=4", game_seed=9)
    first = [env.reset(), *[env.step(action) for action in env.walkthrough()]]
    second = [env.reset(), *[env.step(action) for action in env.walkthrough()]]
    assert first == second


def test_game_id_names_canonical_spec_and_seed() -> None:
    env = make_env("fake:choice?options=3", game_seed=42)
    assert env.spec == "fake:choice?options=3&turns=3"
    assert env.game_id == "fake:choice?options=3&turns=3#42"
    assert make_env("fake:choice?turns=3&options=3", 42).game_id == env.game_id


def test_write_fake_skill(tmp_path: Path) -> None:
    path = write_fake_skill("choice", tmp_path)
    assert path == tmp_path / "fake-choice" / "SKILL.md"
    text = path.read_text()
    assert text.startswith("---\nname: fake-choice\ndescription: ")
    assert FAKE_SKILLS["choice"] in text
