"""Checks: the total exists and is the sum of /app/numbers.txt."""

from pathlib import Path

OUT = Path("/app/total.txt")


def test_total_exists():
    assert OUT.is_file(), f"{OUT} was not written"


def test_total_value():
    assert OUT.read_text().strip() == "4821"
