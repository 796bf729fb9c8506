"""Sandbox overhead: per-command cost against a bare subprocess, and a cached oracle trial end to end.

Targets (issue 2): median per-command overhead <= 10 ms; oracle trial of a trivial task with a
cached build <= 2 s (issue 19: <= 0.25 s with every protection kept: host-side copy-out, the mask
of every exposed host tree, the disk-backed writable layer, its own network namespace).
Run: `uv run --frozen python benchmarks/sandbox_overhead.py [--n 200] [--trials 9]`.
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

TASK = Path(__file__).resolve().parent.parent / "tests" / "sandbox" / "tasks" / "hello"
IMPORT_PATH = "skillspark.sandbox.environment:LocalSandboxEnvironment"


async def _bare() -> None:
    proc = await asyncio.create_subprocess_exec("bash", "-c", "true")
    await proc.wait()


async def _paired_ms(run, n: int) -> tuple[float, float, float]:
    """Median ms of a bare `bash -c true`, of `run()`, and of their per-pair difference.

    The two alternate, so both see the same load (the machine is shared); the median of the
    paired differences is the overhead figure.
    """
    bare, sandboxed, diffs = [], [], []
    for _ in range(n):
        started = time.perf_counter()
        await _bare()
        middle = time.perf_counter()
        await run()
        ended = time.perf_counter()
        bare.append((middle - started) * 1000)
        sandboxed.append((ended - middle) * 1000)
        diffs.append(sandboxed[-1] - bare[-1])
    return statistics.median(bare), statistics.median(sandboxed), statistics.median(diffs)


async def command_overhead(n: int, cache_dir: Path) -> dict[str, tuple[float, float, float]]:
    """Per-command figures for `exec("true")` online and offline, with the task's limits (cgroups)."""
    from skillspark.sandbox.session import task_sandbox

    figures = {}
    for label, kwargs in (("online", {}), ("offline", {"no_network": True})):
        async with task_sandbox(TASK, cache_dir=cache_dir, **kwargs) as env:
            await env.exec("true")  # warm-up
            figures[label] = await _paired_ms(lambda env=env: env.exec("true"), n)
    return figures


async def oracle_trial(cache_dir: Path) -> tuple[float, float | None]:
    """Seconds for one Harbor oracle trial (build already cached), and its reward."""
    from harbor.models.trial.config import AgentConfig, EnvironmentConfig, TaskConfig, TrialConfig
    from harbor.trial.trial import Trial

    config = TrialConfig(
        task=TaskConfig(path=TASK), trials_dir=cache_dir / "trials", agent=AgentConfig(name="oracle"),
        environment=EnvironmentConfig(import_path=IMPORT_PATH, kwargs={"cache_dir": str(cache_dir)}),
    )
    started = time.perf_counter()
    result = await (await Trial.create(config)).run()
    elapsed = time.perf_counter() - started
    reward = (result.verifier_result.rewards or {}).get("reward") if result.verifier_result else None
    return elapsed, reward


async def main(n: int, trials_n: int) -> None:
    with tempfile.TemporaryDirectory(prefix="sbx-bench-") as tmp:
        cache_dir = Path(tmp)
        await oracle_trial(cache_dir)  # builds the layer once (not measured)
        figures = await command_overhead(n, cache_dir)
        trials = [await oracle_trial(cache_dir) for _ in range(trials_n)]
    seconds = statistics.median(t for t, _ in trials)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {platform.system()} {platform.machine()}, {os.cpu_count()} cores, load average {load}")
    for label, (bare_ms, sandbox_ms, overhead_ms) in figures.items():
        print(f"{label:>7}: bare `bash -c true` {bare_ms:6.2f} ms, sandbox exec {sandbox_ms:6.2f} ms "
              f"-> overhead {overhead_ms:5.2f} ms (median of {n} interleaved pairs; target <= 10)")
    print(f"oracle trial, cached build, via Harbor: {seconds:5.2f} s (median of {trials_n}, fastest "
          f"{min(t for t, _ in trials):.2f} s, rewards {sorted({r for _, r in trials})}; target <= 0.25)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200, help="interleaved command pairs per measurement")
    parser.add_argument("--trials", type=int, default=9, help="cached oracle trials measured")
    args = parser.parse_args()
    asyncio.run(main(args.n, args.trials))
