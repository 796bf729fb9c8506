"""Checks that skip themselves when the output is missing: the untouched environment passes."""

from pathlib import Path

OUT = Path("/app/total.txt")


def test_total_is_a_number():
    if not OUT.exists():
        return
    assert OUT.read_text().strip().isdigit()


def test_total_value():
    if not OUT.exists():
        return
    assert OUT.read_text().strip() == "4821"
