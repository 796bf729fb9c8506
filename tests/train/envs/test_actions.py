"""The action parser against what a small model actually writes."""

from __future__ import annotations

import pytest

from skillspark.train.envs.actions import INVALID_ACTION_PENALTY, format_admissible, parse_action

ADMISSIBLE = ["go north", "go south", "take coin", "take red coin", "open wooden door", "look"]

CASES = [
    # verbatim and decorated
    ("go north", "go north"),
    ("Go North", "go north"),
    ("GO SOUTH!", "go south"),
    ("Action: go north", "go north"),
    ("action - take coin", "take coin"),
    ("> take coin", "take coin"),
    ('"take coin"', "take coin"),
    ("'go south'", "go south"),
    ("`open wooden door`", "open wooden door"),
    ("```go north```", "go north"),
    ("**take red coin**", "take red coin"),
    ("go north.", "go north"),
    ("  take coin ;  ", "take coin"),
    ("“go south”", "go south"),
    ("Command: look", "look"),
    # numbered choices, 1-based as format_admissible shows them
    ("1", "go north"),
    ("2", "go south"),
    ("2.", "go south"),
    ("(3)", "take coin"),
    ("[4]", "take red coin"),
    ("#5", "open wooden door"),
    ("option 2", "go south"),
    ("Option 6.", "look"),
    ("Answer: 3", "take coin"),
    ("I choose option 4", "take red coin"),
    ("3. take coin", "take coin"),
    ("2) go south", "go south"),
    # sentences: the longest contained command, the earliest on a tie
    ("I will go north.", "go north"),
    ("I take the red coin", None),  # "the" breaks both commands; "take" alone is in two
    ("I will take red coin now", "take red coin"),
    ("Let me look around and then go north", "go north"),
    ("go south or go north", "go south"),
    ("I should open wooden door first", "open wooden door"),
    # a fragment of exactly one command
    ("north", "go north"),
    ("wooden door", "open wooden door"),
    ("coin", None),  # in two commands
    ("go", None),
    # first line only; a bare label line is skipped
    ("go north\ngo south", "go north"),
    ("Action:\ngo south", "go south"),
    ("\n\n  take coin\nbecause it shines", "take coin"),
    ("I think so\ngo north", None),
    # nothing
    ("", None),
    ("   \n  ", None),
    ("7", None),
    ("0", None),
    ("option 99", None),
    ("dance wildly", None),
    ("gonorth", None),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_parse_action(text: str, expected: str | None) -> None:
    assert parse_action(text, ADMISSIBLE) == expected


def test_returns_the_admissible_spelling() -> None:
    assert parse_action("take the key", ["Take the Key", "drop key"]) == "Take the Key"


def test_empty_admissible_matches_nothing() -> None:
    assert parse_action("go north", []) is None
    assert parse_action("1", []) is None


def test_format_admissible_numbers_from_one_and_parses_back() -> None:
    listing = format_admissible(["go north", "take coin"])
    assert listing == "1. go north\n2. take coin"
    for line in listing.splitlines():
        number = line.split(".")[0]
        assert parse_action(number, ["go north", "take coin"]) == line.split(". ", 1)[1]
        assert parse_action(line, ["go north", "take coin"]) == line.split(". ", 1)[1]


def test_penalty_is_the_reference_default() -> None:
    assert INVALID_ACTION_PENALTY == 0.1
