"""scripts/setup.sh, run for real on throwaway projects (never on the repo's own .venv).

Each test copies the real script into a temp project whose pyproject has no dependencies, so the real
uv runs offline in about a second: a ready project is only checked, and a project whose build fails shows
uv's own error once (the old `uv sync --frozen 2>/dev/null || uv sync` built it twice and hid the first).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = """[project]
name = "throwaway"
version = "0.1.0"
requires-python = ">=3.12"
dependencies = []
"""
# an in-tree build backend (no build requirements, so nothing is downloaded) that fails like a compiler would
FAILING_BACKEND = """import sys
from pathlib import Path


def _fail(*args, **kwargs):
    with open(Path(__file__).with_name("builds.txt"), "a") as log:
        log.write("build\\n")
    print("boom: no C compiler found (throwaway build)", file=sys.stderr)
    raise SystemExit(1)


build_wheel = build_editable = build_sdist = _fail
"""

def project(root: Path, pyproject: str) -> Path:
    (root / "scripts").mkdir(parents=True)
    shutil.copy(REPO / "scripts" / "setup.sh", root / "scripts" / "setup.sh")
    (root / ".python-version").write_text("3.12\n")
    (root / "pyproject.toml").write_text(pyproject)
    subprocess.run(["bash", "-c", 'PY=python3; command -v pyenv >/dev/null && PY="$(pyenv which python3.12)"; '
                    '"$PY" -m uv lock --offline --quiet'], cwd=root, check=True)
    return root


def setup(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "scripts/setup.sh"], cwd=root, capture_output=True, text=True, timeout=300)


def stage_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("setup: [")]


def test_second_run_on_a_ready_project_only_checks_and_reports_every_stage(tmp_path: Path) -> None:
    root = project(tmp_path / "ready", PYPROJECT + "\n[tool.uv]\npackage = false\n")
    first = setup(root)
    assert first.returncode == 0, first.stderr
    assert "Creating virtual environment" in first.stderr and (root / ".venv" / "bin" / "python").exists()

    second = setup(root)
    assert second.returncode == 0, second.stderr
    lines = stage_lines(second.stderr)
    for n, label in enumerate(("system tools", "uv", "uv sync"), start=1):
        assert any(re.match(rf"setup: \[{n}/3\] {label}.* \.\.\.$", line) for line in lines), lines
        assert any(re.match(rf"setup: \[{n}/3\] {label}.*: done in \d+(m\d+)?s$", line) for line in lines), lines
    assert "Creating virtual environment" not in second.stderr  # idempotent: the venv is kept, only checked
    assert re.search(r"^setup: ready in \d+(m\d+)?s", second.stderr, re.M)


def test_failing_sync_shows_uvs_own_error_once_and_stops(tmp_path: Path) -> None:
    pyproject = PYPROJECT + '\n[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
    root = project(tmp_path / "broken", pyproject)
    (root / "backend.py").write_text(FAILING_BACKEND)

    result = setup(root)
    assert result.returncode != 0
    assert "boom: no C compiler found" in result.stderr  # the build's own message, through uv
    assert "error: Failed to build" in result.stderr  # uv's own error line
    assert (root / "builds.txt").read_text().count("build") == 1  # built once: no hidden retry
    last = stage_lines(result.stderr)[-1]
    assert re.match(r"setup: \[3/3\] uv sync .* failed \(exit \d+\) after \d+s", last), last
    assert "ready in" not in result.stderr
