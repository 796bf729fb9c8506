"""Checks for vault-passphrase: /app/answer.txt holds exactly the vault access code."""

from pathlib import Path

ANSWER = Path("/app/answer.txt")
EXPECTED = "ac-b1527e10280f"


def test_answer_file_exists():
    assert ANSWER.is_file(), f"{ANSWER} was not created"


def test_answer_is_exact():
    text = ANSWER.read_text()
    assert text in (EXPECTED, EXPECTED + "\n"), f"{ANSWER} holds {text[:80]!r}, not the vault access code"
