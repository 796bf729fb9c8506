"""`skillspark eval` overhead: statistics and report on synthetic results, and the runner's cost per trial.

Targets (issue 9): scheduler overhead <= 20 ms per trial, excluding the agent; `eval report` <= 10 s on
100,000 results lines. The trial itself is replaced by an instant outcome so only the runner's own work
is timed (agent spec, result record, the fsynced results line, the live table).
Run: `.venv/bin/python benchmarks/eval_overhead.py [--lines 10000 100000] [--trials 700]`.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import platform
import random
import tempfile
import time
from pathlib import Path

from skillspark import config as _config  # noqa: F401  (offline litellm before anything imports it)

TASKS = Path(__file__).resolve().parent.parent / "examples" / "tasks"
ARMS = ("none", "generated", "curated", "placebo")
K = 5


def write_synthetic_eval(out: Path, n_lines: int, seed: int = 0) -> int:
    """results.jsonl of n_lines trials (4 arms, k = 5; every 100th task has no generated skill) and eval.json.

    Returns the number of tasks.
    """
    from skillspark.evaluate.results import RESULTS_FILE, EvalResult, write_config

    rng = random.Random(seed)
    lines: list[str] = []
    missing: list[str] = []
    while len(lines) < n_lines:
        task = f"task-{len(missing) + len(lines):07d}"  # unique: lines only grow
        arms = ARMS if rng.random() >= 0.01 else tuple(a for a in ARMS if a != "generated")
        if "generated" not in arms:
            missing.append(task)
        for a, arm in enumerate(arms):
            p = rng.random() * (0.5 + 0.15 * a)
            for trial in range(K):
                infra = rng.random() < 0.01
                passed = not infra and rng.random() < p
                result = EvalResult(
                    task=task, condition=arm, model="m", trial=trial, reward=float(passed), passed=passed,
                    status="infra_error" if infra else "pass" if passed else "fail",
                    tokens_in=rng.randint(1000, 9000), tokens_out=rng.randint(100, 900),
                    cost_usd=rng.random() / 100, duration_s=rng.random() * 60,
                    skill_sha256=None if arm == "none" else "0" * 64, skill_read=arm != "none" and rng.random() < 0.8,
                    trial_dir=f"trials/{task}/{arm}/{trial}",
                )
                lines.append(result.model_dump_json())
    lines = lines[:n_lines]
    (out / RESULTS_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
    conditions = [{"label": arm, "kind": arm, "source": None, "teacher_cost_usd": 5.0 if arm == "generated" else None}
                  for arm in ARMS]
    write_config(out, {"fingerprint": {"k": K, "seed": 0}, "conditions": conditions,
                       "missing_skills": {"generated": missing}})
    return len({json.loads(line)["task"] for line in lines})


def time_report(n_lines: int) -> dict[str, float]:
    """Seconds to read the results, build summary.json, render report.html, and the whole `eval report`."""
    from rich.console import Console

    from skillspark.evaluate.report import render
    from skillspark.evaluate.results import read_results
    from skillspark.evaluate.service import write_outputs
    from skillspark.evaluate.summary import build_summary

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        n_tasks = write_synthetic_eval(out, n_lines)
        started = time.perf_counter()
        records = [r.model_dump() for r in read_results(out)]
        read_s = time.perf_counter() - started
        started = time.perf_counter()
        config = json.loads((out / "eval.json").read_text(encoding="utf-8"))
        summary = build_summary(records, k=K, teacher_cost_usd={"generated": 5.0},
                                missing_skills=config["missing_skills"])
        summary_s = time.perf_counter() - started
        started = time.perf_counter()
        render(summary, records)
        render_s = time.perf_counter() - started
        started = time.perf_counter()
        write_outputs(out, console=Console(file=io.StringIO()))
        command_s = time.perf_counter() - started
    return {"tasks": n_tasks, "read": read_s, "summary": summary_s, "render": render_s, "eval report": command_s}


def time_runner(n_trials: int) -> dict[str, float]:
    """Milliseconds per trial of plan_eval and of run_eval around an instant trial (examples/tasks, 2 arms)."""
    from skillspark.evaluate import runner
    from skillspark.evaluate.conditions import parse_conditions
    from skillspark.evaluate.service import ArmBoard
    from skillspark.harbor import trials
    from skillspark.harbor.tasks import find_task_dirs, load_task

    async def instant_trial(task_dir, *, agent, env, trials_dir):
        return trials.TrialOutcome(task_name=Path(task_dir).name, trial_dir=Path(trials_dir) / "t", status="ok",
                                   reward=1.0, n_input_tokens=1000, n_output_tokens=100, cost_usd=0.001,
                                   duration_s=0.0, agent_commands=["cat /skills/placebo/SKILL.md", "ls"])

    os.environ.setdefault("OPENAI_API_KEY", "sk-benchmark-never-sent")  # the instant trial calls no model
    tasks = [load_task(path) for path in find_task_dirs([TASKS])]
    k = max(1, n_trials // (2 * len(tasks)))
    real_trial, trials.run_trial = trials.run_trial, instant_trial
    try:
        with tempfile.TemporaryDirectory() as tmp:
            request = runner.EvalRequest(models=["openai/gpt-4o-mini"], conditions=parse_conditions(["none", "placebo"]),
                                         k=k, output=Path(tmp) / "out", seed=1)
            started = time.perf_counter()
            plan = runner.plan_eval(request, tasks)
            plan_s = time.perf_counter() - started
            board = ArmBoard(plan)
            started = time.perf_counter()
            results = asyncio.run(runner.run_eval(request, plan, on_result=board.add))
            run_s = time.perf_counter() - started
    finally:
        trials.run_trial = real_trial
    n = len(results)
    return {"tasks": len(tasks), "trials": n, "plan ms/trial": 1000 * plan_s / n, "run ms/trial": 1000 * run_s / n}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--trials", type=int, default=700)
    args = parser.parse_args()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.processor() or platform.platform()}, "
          f"Python {platform.python_version()}; load average {load}")
    for n_lines in args.lines:
        f = time_report(n_lines)
        print(f"{n_lines:,} results lines ({f['tasks']:,} tasks, {len(ARMS)} arms, k = {K}): read {f['read']:.2f} s, "
              f"summary {f['summary']:.2f} s, render {f['render']:.2f} s; `eval report` {f['eval report']:.2f} s "
              "(target <= 10 s at 100,000)")
    f = time_runner(args.trials)
    print(f"runner, {f['trials']} instant trials over {f['tasks']} tasks x 2 arms: plan {f['plan ms/trial']:.2f} ms "
          f"and run {f['run ms/trial']:.2f} ms per trial (target <= 20 ms)")
    print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
