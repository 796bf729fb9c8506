"""Checks for queue-mode-config: /app/service.conf holds exactly the team's mode line."""

from pathlib import Path

CONF = Path("/app/service.conf")
EXPECTED = "mode=lantern"


def test_conf_file_exists():
    assert CONF.is_file(), f"{CONF} is missing"


def test_mode_is_the_teams():
    text = CONF.read_text()
    assert text in (EXPECTED, EXPECTED + "\n"), f"{CONF} holds {text[:80]!r}"
