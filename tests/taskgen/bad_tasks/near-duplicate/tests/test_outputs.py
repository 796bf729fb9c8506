"""Checks for hello-greeting: the file exists and holds exactly the word asked for."""

from pathlib import Path

GREETING = Path("/app/greeting.txt")


def test_greeting_file_exists():
    assert GREETING.is_file(), f"{GREETING} was not created"


def test_greeting_says_hello():
    assert GREETING.read_text().strip() == "hello"
