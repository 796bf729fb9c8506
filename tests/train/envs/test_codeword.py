"""fake:codeword, the decisive-teacher game: a scripted teacher that reads the retrieved skill wins, a student
without it is at chance, and validation passwords are never seen in training."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from skillspark.errors import UserError
from skillspark.train.envs.codeword import COLOURS, SYLLABLES, rules, write_codeword_skills
from skillspark.train.envs.registry import codeword_spec
from skillspark.train.envs.manifest import training_games, validation_games
from skillspark.train.envs.registry import make_env, parse_env_spec
from skillspark.train.retrieval import load_skills, make_retriever, render_skills

SPEC = "fake:codeword?options=4&turns=2"


@pytest.fixture(scope="module")
def retriever(tmp_path_factory):
    skills = tmp_path_factory.mktemp("skills")
    write_codeword_skills(parse_env_spec(SPEC), skills)
    return make_retriever("keyword", load_skills(skills), seed=0)


def play(spec: str, seed: int, policy) -> bool:
    """One episode; `policy(observation text, admissible, skill text or None)` returns an action."""
    env = make_env(spec, seed)
    first = env.reset()
    text, admissible, won, done = first.text, first.admissible, False, False
    while not done:
        result = env.step(policy(text, admissible))
        text, admissible, won, done = result.observation, result.admissible, result.won, result.done
    return won


def scripted_teacher(retriever, spec: str, seed: int) -> bool:
    """Reads the door out of the skill keyword retrieval picks for the game's first observation."""
    env = make_env(spec, seed)
    first = env.reset()
    skill = render_skills(retriever.choose(f"{seed}", f"{first.objective}\n{first.text}"))
    door = re.search(r"your action is: open (\w+) door", skill).group(1)
    return play(spec, seed, lambda text, admissible: f"open {door} door")


def test_a_scripted_teacher_with_the_skill_wins_and_a_student_without_it_is_at_chance(retriever) -> None:
    games = validation_games(SPEC, 200)
    teacher = sum(scripted_teacher(retriever, SPEC, seed) for seed in games) / len(games)
    rng = random.Random(0)
    student = sum(play(SPEC, seed, lambda text, admissible: rng.choice(admissible)) for seed in games) / len(games)
    assert teacher == 1.0
    assert abs(student - (1 / 4) ** 2) < 0.06  # two gates, four doors each: chance is 1/16


def test_validation_passwords_are_held_out_rules(retriever) -> None:
    def password(seed: int) -> str:
        return make_env(SPEC, seed).password

    trained = {password(seed) for seed in training_games(SPEC, 300, seed=1)}
    validated = {password(seed) for seed in validation_games(SPEC, 100)}
    assert trained <= {r[0] for r in rules("training", 16)} and len(trained) == 16
    assert validated <= {r[0] for r in rules("validation", 16)} and len(validated) == 16
    assert not trained & validated
    assert not set(SYLLABLES["training"]) & set(SYLLABLES["validation"])


def test_codeword_spec_refuses_another_game_in_one_line() -> None:
    assert codeword_spec("fake:codeword?rules=1").knobs["rules"] == 1
    with pytest.raises(UserError, match="--game fake:choice: this needs fake:codeword"):
        codeword_spec("fake:choice")


def test_held_out_zero_validates_on_the_training_rules() -> None:
    spec = "fake:codeword?rules=2&held_out=0"
    validated = {make_env(spec, seed).password for seed in validation_games(spec, 40)}
    assert validated == {r[0] for r in rules("training", 2)}  # the planted control's memorisation check


def test_the_password_hides_the_winning_colour_and_each_turn_reshuffles_the_doors() -> None:
    env = make_env(SPEC, 7)
    first = env.reset()
    toy = first.demonstration  # a solved toy gate whose answer no real game has
    assert toy.action in toy.admissible and toy.action in toy.skill and toy.action.split()[1] not in COLOURS
    colour = env.walkthrough()[0].split()[1]
    assert colour in COLOURS and colour in env.password and f"'{env.password}'" in first.text
    assert f"open {colour} door" in first.admissible and len(first.admissible) == 4
    second = env.step(f"open {colour} door")
    assert (second.reward, second.done) == (1.0, False) and f"open {colour} door" in second.admissible
    wrong = next(a for a in second.admissible if a != f"open {colour} door")
    lost = env.step(wrong)
    assert (lost.done, lost.won, lost.reward) == (True, False, 0.0)


def test_skills_name_their_password_as_keyword_and_say_the_door(tmp_path: Path) -> None:
    paths = write_codeword_skills(parse_env_spec("fake:codeword?rules=3&held_out=2"), tmp_path)
    skills = load_skills(tmp_path)
    assert len(paths) == len(skills) == 5
    for skill, (word, prefix, colour, suffix) in zip(
        sorted(skills, key=lambda s: s.name), sorted(rules("training", 3) + rules("validation", 2))
    ):
        assert skill.keywords == [word] and skill.name == f"codeword-{word}"
        assert f"your action is: open {colour} door" in skill.body and f"{prefix}-{colour}-{suffix}" in skill.body
