"""Calibration of the eval statistics: false positives under a planted null, power and CI coverage under a planted Δ.

Every simulated eval goes through the real `build_summary` (skillspark.evaluate.calibration has the
simulation and the definition of the true Δ: the population mean of p_B − p_A). Goals: "better"/"worse"
called under the null in ≤ 5% of evals (plus Monte-Carlo error), the 95% CI of Δ covering the population
Δ in 93–97% of evals; power is printed next to the MDE that summary.json claims (80% power at Δ = MDE).
The pooled-trials column is the broken comparator (tasks ignored), for contrast.
Target: ≤ 15 min on 2 cores at 1,000 evals per cell.
Run: `.venv/bin/python benchmarks/eval_calibration.py [--evals 1000] [--workers 2] [--gain-concentration 2]`.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time
from concurrent.futures import ProcessPoolExecutor

from skillspark.evaluate.calibration import (
    Cell,
    CellResult,
    TaskPopulation,
    pooled_trials_method,
    run_cell,
    summary_method,
)

TASKS = (6, 10, 20, 40)
KS = (1, 3, 5)
DELTAS = (0.0, 0.1, 0.2, 0.3)
METHODS = {"summary": summary_method, "pooled": pooled_trials_method}


def _run(job: tuple[Cell, int, int, float]) -> list[CellResult]:
    cell, evals, seed, concentration = job
    return run_cell(cell, evals, seed, METHODS, TaskPopulation(gain_concentration=concentration))


def _se(rate: float, n: int) -> float:
    return math.sqrt(max(rate * (1 - rate), 1e-12) / n)


def _flag(ok: bool) -> str:
    return "" if ok else " !"


def row(summary: CellResult, pooled: CellResult) -> str:
    """One markdown row; `!` marks a figure outside its goal by more than 2 Monte-Carlo SEs."""
    cell, n = summary.cell, summary.n_evals
    called = summary.called_rate
    if cell.delta == 0:
        rate = f"{100 * called:.1f}% ({summary.better}/{summary.worse}){_flag(called <= 0.05 + 2 * _se(0.05, n))}"
        power = "—"
    else:
        rate = f"{100 * summary.worse / n:.1f}% worse"
        power = f"{100 * summary.power:.1f}%"
    cover = summary.coverage
    cover_ok = 0.93 - 2 * _se(0.95, n) <= cover <= 0.97 + 2 * _se(0.95, n) or (cell.delta == 0 and cover > 0.97)
    mde = "none (< 6 tasks)" if summary.median_mde is None else f"{100 * summary.median_mde:.1f} pp"
    return (
        f"| {cell.n_tasks} | {cell.k} | {cell.delta:.1f} | {rate} | {power} | {mde} | "
        f"{100 * cover:.1f}%{_flag(cover_ok)} | {100 * summary.coverage_sample:.1f}% | {100 * pooled.coverage:.1f}% |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evals", type=int, default=1000, help="simulated evals per cell")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--gain-concentration", type=float, default=2.0, help="c of the per-task gain's Beta")
    args = parser.parse_args()

    population = TaskPopulation(gain_concentration=args.gain_concentration)
    cells = [Cell(n_tasks=n, k=k, delta=d) for n in TASKS for k in KS for d in DELTAS]
    print(f"machine: {platform.machine()} {os.cpu_count()} CPUs, {platform.python_implementation()} "
          f"{platform.python_version()}; load average at start {os.getloadavg()[0]:.2f}")
    print(f"population: {population.model_dump()}, mean baseline pass probability {population.mean():.3f}")
    print(f"{args.evals} simulated evals per cell, seed {args.seed}, {args.workers} workers\n")
    started = time.perf_counter()
    jobs = [(cell, args.evals, args.seed, args.gain_concentration) for cell in cells]
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(_run, jobs))
    elapsed = time.perf_counter() - started

    print("| tasks | k | planted Δ | called better/worse (null: false positives) | power | claimed MDE (median) "
          "| CI covers population Δ | CI covers sample Δ | pooled-trials CI covers |")
    print("|---|---|---|---|---|---|---|---|---|")
    for by_method in results:
        summary, pooled = (next(r for r in by_method if r.method == name) for name in ("summary", "pooled"))
        print(row(summary, pooled))
    nulls = [r for by in results for r in by if r.method == "summary" and r.cell.delta == 0]
    worst = max(nulls, key=lambda r: r.called_rate)
    print(f"\nlargest false-positive rate: {100 * worst.called_rate:.1f}% at {worst.cell.n_tasks} tasks, "
          f"k = {worst.cell.k} (Monte-Carlo SE at 5%: {100 * _se(0.05, args.evals):.1f} pp)")
    for floor in (6, 10, 20):
        covered = [r.coverage for by in results for r in by if r.method == "summary" and r.cell.n_tasks >= floor]
        print(f"CI coverage of the population Δ with ≥ {floor} tasks: {100 * min(covered):.1f}% to "
              f"{100 * max(covered):.1f}%")
    print(f"elapsed {elapsed:.0f} s; load average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
