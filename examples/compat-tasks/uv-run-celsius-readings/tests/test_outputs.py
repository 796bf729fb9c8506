"""Checks for uv-run-celsius-readings (python:3.x-slim image, uv installed by its script, `uv run`)."""

import shutil
from pathlib import Path

OUTPUT = Path("/app/celsius.csv")


def _lines():
    assert OUTPUT.is_file(), "/app/celsius.csv was not written"
    return OUTPUT.read_text().splitlines()


def test_tool_dir_prepended_to_the_image_path():
    assert shutil.which("units-table") == "/opt/tools/bin/units-table"
    assert shutil.which("python3") is not None


def test_header_and_order():
    lines = _lines()
    assert lines[0] == "sensor,celsius"
    assert [line.split(",")[0] for line in lines[1:]] == ["boiler", "attic", "cellar", "roof"]


def test_converted_values_one_decimal():
    assert _lines()[1:] == ["boiler,37.0", "attic,21.4", "cellar,10.0", "roof,-40.0"]
