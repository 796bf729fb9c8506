"""Checks for deploy-codeword: /app/answer.txt holds exactly the deploy codeword."""

from pathlib import Path

ANSWER = Path("/app/answer.txt")
EXPECTED = "quokka"


def test_answer_file_exists():
    assert ANSWER.is_file(), f"{ANSWER} was not created"


def test_answer_is_exact():
    text = ANSWER.read_text()
    assert text in (EXPECTED, EXPECTED + "\n"), f"{ANSWER} holds {text[:80]!r}, not the deploy codeword"
