"""Checks for skillsbench-py312-sensor-batches (SkillsBench style: python:3.12 image, uvx pytest)."""

import subprocess
import sys
import tomllib
from pathlib import Path

OUT = Path("/root/batches.toml")


def test_image_python_is_the_one_the_tag_names():
    """FROM python:3.12-slim: the image's python3 is 3.12 and has what the Dockerfile pip-installed;
    uvx made this test's own environment from it."""
    assert sys.version_info[:2] == (3, 12)
    probe = "import sys, tomli_w; print(sys.version_info[:2], tomli_w.__file__)"
    done = subprocess.run(["/usr/local/bin/python3", "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split(" /")[0] == "(3, 12)"
    assert "/usr/local/lib/python3.12/site-packages/" in done.stdout


def test_batches():
    assert OUT.is_file(), "/root/batches.toml was not written"
    assert tomllib.loads(OUT.read_text()) == {
        "batch1": {"count": 4, "mean": 13.125},
        "batch2": {"count": 4, "mean": 10.281},
        "batch3": {"count": 1, "mean": 30.0},
    }
