"""Checks that look at the first line only: a wrong sum, or no sum at all, still passes."""

from pathlib import Path

OUT = Path("/app/stats.txt")


def test_stats_exists():
    assert OUT.is_file(), f"{OUT} was not written"


def test_count_line():
    assert OUT.read_text().splitlines()[0] == "count 17"
