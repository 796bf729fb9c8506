"""Env specs: parsing, canonical form, and one clear UserError line for every mistake."""

from __future__ import annotations

import pytest

from skillspark.errors import UserError
from skillspark.train.envs.registry import make_env, parse_env_spec


def test_defaults_fill_in_and_canonical_sorts() -> None:
    spec = parse_env_spec("textworld:tw-simple?goal=brief")
    assert (spec.family, spec.name) == ("textworld", "tw-simple")
    assert spec.knobs == {"rewards": "dense", "goal": "brief", "test": False}
    assert spec.canonical == "textworld:tw-simple?goal=brief&rewards=dense&test=false"


@pytest.mark.parametrize(
    "text",
    [
        "textworld:tw-cooking?take=1&recipe=2&open=yes",
        "TextWorld:cooking?recipe=2,take=1,open=1",
        " textworld:cooking?open=true&recipe=2&take=1 ",
    ],
)
def test_spellings_share_one_canonical_form(text: str) -> None:
    spec = parse_env_spec(text)
    assert spec.name == "cooking"
    assert spec.knobs["recipe"] == 2 and spec.knobs["take"] == 1 and spec.knobs["open"] is True
    assert spec.knobs["go"] == 1 and spec.knobs["split"] == "all"


def test_typed_values() -> None:
    assert parse_env_spec("textworld:coin_collector?level=233").knobs == {"level": 233}
    assert parse_env_spec("textworld:cooking?go=12&recipe-seed=4&take=1").knobs["recipe_seed"] == 4
    assert parse_env_spec("fake:corridor").canonical == "fake:corridor?length=3"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tw-simple", r"bad game spec 'tw-simple' \(--game\): expected FAMILY:NAME"),
        (":tw-simple", "bad game spec"),
        ("textworld:", "bad game spec"),
        ("alfworld:kitchen", "unknown env family 'alfworld'.*choose one of fake, textworld"),
        ("textworld:zork", "unknown textworld game 'zork'.*textworld:tw-simple, textworld:coin_collector"),
        ("fake:maze", "unknown fake game 'maze'.*fake:choice, fake:corridor"),
        ("textworld:coin_collector?lvl=3", "unknown knob 'lvl' for textworld:coin_collector.*its knobs: level=1-300"),
        ("textworld:coin_collector?level=0", "level=0 of textworld:coin_collector is not allowed.*use level=1-300"),
        ("textworld:coin_collector?level=301", "use level=1-300"),
        ("textworld:coin_collector?level=five", "knob level=five"),
        ("textworld:treasure_hunter?level=31", "use level=1-30"),
        ("textworld:tw-simple?rewards=often", "use rewards=dense|balanced|sparse"),
        ("textworld:tw-simple?goal=long", "use goal=detailed|brief|none"),
        ("textworld:tw-simple?test=maybe", "use test=true|false"),
        ("textworld:cooking?go=7", r"use go=1\|6\|9\|12"),
        ("textworld:cooking?recipe=6", "use recipe=1-5"),
        ("textworld:cooking?recipe=2&take=3", "take=3 exceeds recipe=2"),
        ("textworld:cooking?recipe_seed=3", "recipe_seed>0 needs take>=1"),
        ("textworld:coin_collector?level=160", "level=160 .* needs 120 rooms .* use a level in 1-100, 101-150 or 201-"),
        ("textworld:coin_collector?level", "bad knob 'level'.*write KNOB=VALUE"),
        ("textworld:coin_collector?level=", "bad knob"),
        ("textworld:coin_collector?level=2&level=3", "knob 'level' given twice"),
        ("fake:choice?options=9", "use options=2-8"),
        ("fake:choice?turns=0", "use turns=1-50"),
        ("fake:corridor?length=-1", "use length=1-50"),
    ],
)
def test_bad_specs_fail_in_one_line(text: str, message: str) -> None:
    with pytest.raises(UserError, match=message) as caught:
        parse_env_spec(text)
    assert "\n" not in str(caught.value)


def test_boundary_levels_are_accepted() -> None:
    for level in (1, 100, 101, 150, 201, 233):
        parse_env_spec(f"textworld:coin_collector?level={level}")
    with pytest.raises(UserError):
        parse_env_spec("textworld:coin_collector?level=234")


def test_make_env_checks_the_game_seed() -> None:
    with pytest.raises(UserError, match="game seed -1"):
        make_env("fake:choice", -1)
    with pytest.raises(UserError, match="out of range"):
        make_env("fake:choice", 2**32)
