"""Checks for report-profile-env: /app/answer.txt holds exactly the report stamp."""

from pathlib import Path

ANSWER = Path("/app/answer.txt")
EXPECTED = "ws-29ee62b75b43"


def test_answer_file_exists():
    assert ANSWER.is_file(), f"{ANSWER} was not created"


def test_answer_is_exact():
    text = ANSWER.read_text()
    assert text in (EXPECTED, EXPECTED + "\n"), f"{ANSWER} holds {text[:80]!r}, not the report stamp"
