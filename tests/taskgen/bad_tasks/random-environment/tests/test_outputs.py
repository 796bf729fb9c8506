"""Checks: the total is the sum of whatever /app/numbers.txt holds."""

from pathlib import Path

OUT = Path("/app/total.txt")
NUMBERS = Path("/app/numbers.txt")


def test_total_exists():
    assert OUT.is_file(), f"{OUT} was not written"


def test_total_value():
    assert OUT.read_text().strip() == str(sum(int(n) for n in NUMBERS.read_text().split()))
