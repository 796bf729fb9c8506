"""Checks for skillsbench-uv-project-lift-totals (SkillsBench style: `uv init --python 3.12` project)."""

import csv
import sys
from pathlib import Path

OUT = Path("/root/data/totals.csv")


def test_project_runs_on_the_images_python():
    """ubuntu:24.04's python3.12 was found by name; uv did not need to download an interpreter."""
    assert sys.version_info[:2] == (3, 12)


def test_totals():
    assert OUT.is_file(), "/root/data/totals.csv was not written"
    with OUT.open(newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows == [["name", "total"], ["Ada", "512.5"], ["Cy", "285.8"], ["Dee", "573.5"]]
