"""Offline serving: what packing the host's CPythons for uv costs once, what the marking wrapper
(run-marked, which copies a command's stderr aside) costs per pip/apt/uv call, and what the Playwright
preload (playwright_browsers.py, loaded by every Node in a sandbox) costs per Node start.

No target: figures for docs/offline-serving.md. The layer is built into a temporary folder (the real
one lives in ~/.cache/skillspark/uv-python and is built once per host). The per-call cost is measured
on the host with the same script the sandbox runs, alternating a bare `true` with `run-marked ... true`
(and `node -e 0` without and with the preload) so both see the same load; the median of the paired
differences is the figure.
Run: `uv run --frozen python benchmarks/offline_serving.py [--n 200]`.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from skillspark.sandbox import installers, playwright_browsers, uv_python


def _layer_figures(root: Path) -> None:
    started = time.perf_counter()
    layer = uv_python.uv_python_layer(root)
    elapsed = time.perf_counter() - started
    if layer is None:
        print("uv-python layer: none (this host has no CPython 3.8+ to serve)")
        return
    folder = layer / installers.UV_PYTHON_DIR.lstrip("/")
    archives = sorted(folder.glob("cpython-*"))
    total = sum(path.stat().st_size for path in archives)
    print(f"uv-python layer: {len(archives)} CPythons ({', '.join(p.name.split('-')[1] for p in archives)}), "
          f"{total / 2**20:.0f} MiB, built in {elapsed:.1f} s (once per host)")


def _paired_ms(bare_argv: list[str], other_argv: list[str], n: int, other_env: dict | None = None) -> tuple[float, float, float]:
    """Medians of a bare command, of the other one, and of their paired differences, in ms."""
    bare, marked, diffs = [], [], []
    env = {"PATH": "/usr/bin:/bin"}
    for _ in range(n):
        started = time.perf_counter()
        subprocess.run(bare_argv, env=env, check=True)
        middle = time.perf_counter()
        subprocess.run(other_argv, env={**env, **(other_env or {})}, check=True)
        ended = time.perf_counter()
        bare.append((middle - started) * 1e3)
        marked.append((ended - middle) * 1e3)
        diffs.append(marked[-1] - bare[-1])
    return statistics.median(bare), statistics.median(marked), statistics.median(diffs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="paired runs for the per-call figure")
    args = parser.parse_args()
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"machine: {platform.system()} {platform.machine()}, {os.cpu_count()} cores, load average {load}")
    with tempfile.TemporaryDirectory() as scratch:
        _layer_figures(Path(scratch) / "uv-python")
        script = Path(scratch) / "run-marked"
        script.write_text(installers._RUN_MARKED)
        script.chmod(0o755)
        bare, marked, diff = _paired_ms(["true"], [str(script), "pip", "https://pypi.org/simple/", "true"], args.n)
        print(f"run-marked: bare `true` {bare:.2f} ms, marked {marked:.2f} ms -> {diff:.2f} ms per pip/apt/uv call "
              f"(median of {args.n} interleaved pairs)")
        node = shutil.which("node")
        if node is None:
            print("playwright preload: no node on this host")
            return
        preload = playwright_browsers.write_scripts(Path(scratch) / "playwright")
        empty = Path(scratch) / "empty.js"
        empty.write_text("")
        pairs = args.n // 2
        for name, script in (("an empty preload", empty), ("the Playwright preload", preload)):
            bare, loaded, diff = _paired_ms([node, "-e", "0"], [node, "-e", "0"], pairs, {"NODE_OPTIONS": f"--require={script}"})
            print(f"{name}: bare `node -e 0` {bare:.1f} ms, with it {loaded:.1f} ms -> {diff:.2f} ms per Node start "
                  f"(median of {pairs} interleaved pairs)")


if __name__ == "__main__":
    main()
