"""Checks for skillsbench-uv-expense-totals (SkillsBench style: uvx pytest with CTRF)."""

import json
import shutil
from pathlib import Path

TOTALS = Path("/root/totals.json")


def _totals():
    assert TOTALS.is_file(), "/root/totals.json was not written"
    return json.loads(TOTALS.read_text())


def test_helper_on_the_extended_path():
    """ENV PATH="/root/.local/bin:$PATH" kept the image's PATH and added the helper."""
    assert shutil.which("csv-columns") == "/root/.local/bin/csv-columns"
    assert shutil.which("python3") is not None


def test_categories_converted_and_rounded():
    """USD rows are converted at 0.9; the unparsable row is skipped."""
    totals = _totals()
    assert {k: v for k, v in totals.items() if k != "_all"} == {"food": 36.35, "office": 55.0, "travel": 390.5}


def test_grand_total_sums_rounded_totals():
    assert _totals()["_all"] == 481.85
