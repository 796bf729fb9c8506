"""Benchmark: `pdi replay` throughput and memory on a large synthetic log.

Writes a log of --attempts attempts across tasks of --per-task attempts (each failure: an
execution_result, a pdi_snapshot and a reflect_call with ~1 KB memos and ~1.5 KB of commands; one
attempt in ten an INFRA_ERROR without a reflect step), then replays it through the same streaming
path the CLI uses. Prints snapshots/s (target >= 1,000), the process's peak RSS, and the peak
Python heap of a second, tracemalloc-instrumented pass over the first --traced-attempts attempts.

    uv run --frozen python benchmarks/pdi_replay.py [--attempts 50000] [--per-task 10]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import tempfile
import time
import tracemalloc
from itertools import islice
from pathlib import Path

from skillspark.pdi.evidence import read_jsonl
from skillspark.pdi.replay import replay

WORDS = [f"w{i}" for i in range(3000)] + ["python", "pytest", "pip", "install", "cat", "ls", "grep", "csv", "json"]


def words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choices(WORDS, k=n))


def memo(rng: random.Random, n: int) -> str:
    return (
        f"## Exploration Memo ({n} failed attempts)\n\n### Attempts Log\n- #{n}: {words(rng, 30)}\n\n"
        f"### Commands From Last Attempt\n```\n{words(rng, 20)}\n```\n\n### Verified Facts\n- {words(rng, 40)}\n\n"
        f"### Current Error Pattern\n{words(rng, 15)}\n\n### Next Strategy\n1. {words(rng, 30)}\n"
    )


def synthesize(path: Path, attempts: int, per_task: int, seed: int = 0) -> int:
    """Write the log, one record at a time; returns the number of reflect steps it holds."""
    rng = random.Random(seed)
    steps = 0
    with path.open("w", encoding="utf-8") as out:
        for task_start in range(0, attempts, per_task):
            before = ""
            for attempt in range(min(per_task, attempts - task_start)):
                infra = rng.random() < 0.1
                failed = [f"test_outputs.py::test_{i}" for i in rng.sample(range(12), rng.randint(1, 6))]
                out.write(json.dumps({
                    "type": "execution_result", "attempt": attempt, "status": "INFRA_ERROR" if infra else "FAIL",
                    "success": False, "reward": 0.0, "agent_commands": words(rng, 250),
                    "test_summary": "FAILED (fix these):\n" + "\n".join(f"  ✗ {t}" for t in failed),
                }) + "\n")  # fmt: skip
                if infra:
                    continue
                after = memo(rng, attempt + 1)
                out.write(json.dumps({"type": "pdi_snapshot", "attempt": attempt, "step": steps, "proxy_exec": 0.0,
                                      "proxy_plan": 0.0, "proxy_oss": 0.0, "raw_pdi": 0.0, "weight": 0.0,
                                      "weighted_pdi": 0.0, "triggered": False, "level": None}) + "\n")  # fmt: skip
                out.write(json.dumps({"type": "reflect_call", "attempt": attempt, "memo_before": before,
                                      "memo_after": after}) + "\n")  # fmt: skip
                before = after
                steps += 1
            out.write(json.dumps({"type": "task_summary", "task_name": f"task-{task_start // per_task}"}) + "\n")
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=50_000)
    parser.add_argument("--per-task", type=int, default=10)
    parser.add_argument("--traced-attempts", type=int, default=5_000)
    parser.add_argument("--method", default="token_overlap", choices=["token_overlap", "js_divergence"])
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "trajectory.jsonl"
        t0 = time.perf_counter()
        steps = synthesize(log, args.attempts, args.per_task)
        size_mb = log.stat().st_size / 1e6
        print(
            f"log: {args.attempts} attempts, {steps} reflect steps, {size_mb:.1f} MB (written in {time.perf_counter() - t0:.1f} s)"
        )

        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t0, c0 = time.perf_counter(), time.process_time()
        n = sum(1 for _ in replay(read_jsonl(log), args.method))
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        assert n == steps, (n, steps)
        print(f"replay ({args.method}): {n} snapshots in {elapsed:.2f} s = {n / elapsed:,.0f} snapshots/s "
              f"({size_mb / elapsed:.1f} MB/s); target >= 1,000 snapshots/s")  # fmt: skip
        print(f"  CPU time {cpu:.2f} s = {n / cpu:,.0f} snapshots per CPU-second (wall differs on a busy machine)")
        print(f"peak RSS: {rss_after:.0f} MiB (was {rss_before:.0f} MiB before the replay)")

        lines = args.traced_attempts * 3
        tracemalloc.start()
        with log.open(encoding="utf-8") as handle:
            records = ((i, json.loads(line)) for i, line in enumerate(islice(handle, lines), 1))
            traced = sum(1 for _ in replay(records, args.method))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"peak Python heap while replaying the first {traced} snapshots: {peak / 1e6:.2f} MB (tracemalloc)")


if __name__ == "__main__":
    main()
