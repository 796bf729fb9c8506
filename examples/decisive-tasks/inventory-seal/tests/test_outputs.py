"""Checks for inventory-seal: /app/answer.txt holds exactly the inventory seal."""

from pathlib import Path

ANSWER = Path("/app/answer.txt")
EXPECTED = "sl-184a83649d8f"


def test_answer_file_exists():
    assert ANSWER.is_file(), f"{ANSWER} was not created"


def test_answer_is_exact():
    text = ANSWER.read_text()
    assert text in (EXPECTED, EXPECTED + "\n"), f"{ANSWER} holds {text[:80]!r}, not the inventory seal"
