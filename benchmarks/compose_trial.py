"""What a compose task costs over a single-container task: start + one command + stop, cached builds.

Alternates (A, B, A, B ...) a single-sandbox task (`tests/sandbox/tasks/hello`) with each compose
example (`examples/compose-tasks/*`: main + 1 service, main + 2 services), so all see the same
load on a shared machine; prints medians and what each extra service costs. The first round
(builds) is not counted. Run: `uv run --frozen python benchmarks/compose_trial.py [--rounds 5]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from skillspark import config as _config  # noqa: F401  (offline defaults before harbor is imported)

REPO = Path(__file__).resolve().parent.parent
SINGLE = REPO / "tests" / "sandbox" / "tasks" / "hello"
COMPOSE = sorted(p.parent for p in (REPO / "examples" / "compose-tasks").glob("*/task.toml"))


async def _once(task: Path, cache_dir: Path) -> float:
    """Seconds for start, `true` in main, stop."""
    from skillspark.sandbox.session import task_sandbox

    started = time.perf_counter()
    async with task_sandbox(task, cache_dir=cache_dir) as env:
        assert (await env.exec("true")).return_code == 0
    return time.perf_counter() - started


async def main(rounds: int) -> None:
    tasks = [SINGLE, *COMPOSE]
    times: dict[str, list[float]] = {task.name: [] for task in tasks}
    with tempfile.TemporaryDirectory(prefix="compose-bench-") as cache:
        for task in tasks:  # builds, not counted
            await _once(task, Path(cache))
        for _ in range(rounds):
            for task in tasks:
                times[task.name].append(await _once(task, Path(cache)))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {platform.system()} {platform.machine()}, {os.cpu_count()} cores, load average {load}")
    base = statistics.median(times[SINGLE.name])
    print(f"{SINGLE.name:>26}: {base:6.2f} s  (single sandbox; median of {rounds}, start + exec + stop)")
    for task in COMPOSE:
        median = statistics.median(times[task.name])
        print(f"{task.name:>26}: {median:6.2f} s  (+{median - base:.2f} s over single; fastest {min(times[task.name]):.2f} s)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(main(parser.parse_args().rounds))
