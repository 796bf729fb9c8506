"""Checks: one real test, and one that asserts nothing."""

from pathlib import Path

OUT = Path("/app/total.txt")


def test_total_readable():
    OUT.read_text()


def test_total_value():
    assert OUT.read_text().strip() == "4821"
