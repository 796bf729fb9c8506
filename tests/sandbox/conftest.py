"""Shared helpers for the sandbox tests: fixture task dirs and a layer cache shared by the whole run."""

import os
from pathlib import Path

import pytest

TASKS = Path(__file__).parent / "tasks"


@pytest.fixture
def task_dir():
    return lambda name: TASKS / name


@pytest.fixture
def probe_task():
    """A minimal task on `base` (a WORKDIR, a verifier that passes), written under `root`."""

    def write(root: Path, base: str = "debian:bookworm-slim") -> Path:
        (root / "environment").mkdir(parents=True)
        (root / "environment" / "Dockerfile").write_text(f"FROM {base}\nWORKDIR /app\n")
        (root / "tests").mkdir()
        (root / "tests" / "test.sh").write_text("#!/bin/bash\necho 1 > /logs/verifier/reward.txt\n")
        (root / "instruction.md").write_text("probe\n")
        (root / "task.toml").write_text('version = "1.0"\n')
        return root

    return write


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    """One layer cache for the whole run: builds happen once, like on a user's machine.

    Under pytest-xdist every worker is a session of its own; they share the cache (one folder beside the
    workers' temp roots) instead of each building every layer again, as processes on one machine do.
    """
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return tmp_path_factory.mktemp("sandbox-cache")
    shared = tmp_path_factory.getbasetemp().parent / "sandbox-cache"
    shared.mkdir(exist_ok=True)
    return shared
