"""Task audit: time per task with a warm build cache, and how well the gates tell bad tasks from good.

Targets (issues 11, 19): audit time <= 10 s per example task with a warm cache (the verifier's
pip install served from the local wheel cache, sandbox/wheelhouse.py); 100% of deliberately
broken variants of the example tasks rejected, 100% of the good ones accepted.

1. Warm-up: every selected example audited once (builds cached, rebuild checks remembered); with an
   empty cache (`SKILLSPARK_CACHE_DIR=$(mktemp -d)`) and `-p 1` its times are the cold figures.
2. Timing: each example audited alone, one after another; seconds per task, and where they went:
   the audit's phases, each trial's Harbor phases, and the probe's own steps (each verifier run).
3. Sensitivity: broken variants of some examples (vacuous tests, answer copied into the image,
   output path renamed in the instruction, crashing oracle, verifier that needs the network,
   unseeded build data, near copy), each audited alone (the near copy against its original);
   share rejected, and share rejected by the gate the flaw is meant to trip.

Run: `uv run --frozen python benchmarks/task_audit.py [--tasks a,b] [--variants-of a,b] [-p 3]`.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import os
import json
import platform
import shutil
import statistics
import tempfile
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

from skillspark import config as _config  # noqa: F401  (offline defaults before harbor is imported)
from skillspark.taskgen.gates import TaskAudit, audit_task, audit_tasks
from skillspark.taskgen.gates.lint import checked_paths

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "tasks"
ROUTE_CHECK = ("python3 -c \"import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM)"
               ".connect(('192.0.2.1', 53))\" || { mkdir -p /logs/verifier; echo 0 > /logs/verifier/reward.txt; exit 0; }\n")


def _after_shebang(path: Path, line: str) -> None:
    first, _, rest = path.read_text().partition("\n")
    path.write_text(f"{first}\n{line}{rest}" if first.startswith("#!") else f"{line}{first}\n{rest}")


def _append(path: Path, text: str) -> None:
    with open(path, "a") as handle:
        handle.write(text)


def _vacuous(task: Path, outputs: dict[str, bytes]) -> None:
    """Every test function's body becomes `assert True`: the tests pass whatever the agent did."""
    for path in (task / "tests").glob("test_*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
                node.body = [ast.Assert(test=ast.Constant(True))]
        path.write_text(ast.unparse(tree))


def _leaked(task: Path, outputs: dict[str, bytes]) -> None:
    """The oracle's outputs copied into the image under /opt/leaked."""
    for image_path, data in outputs.items():
        target = task / "environment" / "leaked" / image_path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    _append(task / "environment" / "Dockerfile", "\nCOPY leaked/ /opt/leaked/\n")


def _wrong_path(task: Path, outputs: dict[str, bytes]) -> None:
    """The instruction asks for other file names than the tests check."""
    instruction = task / "instruction.md"
    text = instruction.read_text()
    for path in set(outputs) & set(checked_paths(task)):
        stem, dot, suffix = path.rpartition(".")
        text = text.replace(path, f"{stem}_final{dot}{suffix}" if dot else f"{path}_final")
    instruction.write_text(text)


VARIANTS = {  # name: (make it, the gate it should trip)
    "vacuous-tests": (_vacuous, "nop"),
    "answer-in-image": (_leaked, "leak"),
    "wrong-output-path": (_wrong_path, "lint"),
    "crashing-oracle": (lambda task, _o: _after_shebang(task / "solution" / "solve.sh", "exit 3\n"), "oracle"),
    "network-verifier": (lambda task, _o: _after_shebang(task / "tests" / "test.sh", ROUTE_CHECK), "offline"),
    "unseeded-build": (lambda task, _o: _append(task / "environment" / "Dockerfile",
                                                "\nRUN date +%s%N > /app/.build-stamp\n"), "determinism"),
    "near-copy": (lambda task, _o: _append(task / "instruction.md", "\nThank you.\n"), "dedup"),
}


def _outputs(work_dir: Path, task: str) -> dict[str, bytes]:
    """The oracle's output files, as the warm-up audit's probe copied them out."""
    for trial in sorted((work_dir / "trials").glob(f"{task}__*")):
        root = trial / "agent" / "audit-outputs"
        if root.is_dir():
            return {"/" + p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    return {}


def _harbor_phases(trial: Path) -> dict[str, float]:
    """Seconds of each phase Harbor recorded for one trial (environment setup, agent, verifier)."""
    result = json.loads((trial / "result.json").read_text())
    phases = {}
    for phase in ("environment_setup", "agent_execution", "verifier"):
        if result.get(phase) and result[phase].get("finished_at"):
            started, finished = (datetime.fromisoformat(result[phase][k]) for k in ("started_at", "finished_at"))
            phases[phase] = (finished - started).total_seconds()
    return phases


def _breakdown(trials_dir: Path, task: str) -> dict[str, float]:
    """Where one task's trial seconds went: each trial's Harbor phases, the probe's steps (summed by
    kind, with counts), keyed `trial: phase`. The three trials run at once."""
    found: dict[str, float] = defaultdict(float)
    for trial in sorted(trials_dir.glob(f"{task}__*")):
        probe_file = trial / "agent" / "audit-probe.json"
        probe = json.loads(probe_file.read_text()) if probe_file.is_file() else None
        kind = "nop" if probe is None else "probe" if probe.get("measured") else "2nd oracle"
        for phase, seconds in _harbor_phases(trial).items():
            found[f"{kind}: {phase}"] += seconds
        for step in (probe or {}).get("timings", []):
            found[f"{kind}: {step['step']}"] += step["seconds"]
            found[f"{kind}: {step['step']} (count)"] += 1
    return dict(found)


def _print_breakdown(audits: list[TaskAudit], trials_dir: Path) -> None:
    rows = {a.task: {**{f"audit: {k}": v for k, v in a.phases.items()}, **_breakdown(trials_dir, a.task)}
            for a in audits}
    keys = sorted({k for row in rows.values() for k in row if not k.endswith("(count)")})
    print("where the seconds went (wall; the nop, probe and 2nd oracle trials run at once):")
    print(f"  {'phase':48s} {'median':>7s} {'max':>7s}  per task")
    for key in keys:
        values = [row.get(key, 0.0) for row in rows.values()]
        counts = [row.get(f"{key} (count)") for row in rows.values()]
        each = ", ".join(f"{v:.1f}" + (f"/{c:.0f}" if c else "") for v, c in zip(values, counts))
        print(f"  {key:48s} {statistics.median(values):7.1f} {max(values):7.1f}  {each}")
    print("  (a/n: a seconds over n runs of that step)")


async def main(args: argparse.Namespace) -> None:
    names = args.tasks.split(",") if args.tasks else sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir())
    tasks = [EXAMPLES / name for name in names]
    scratch = Path(tempfile.mkdtemp(prefix="task-audit-bench-"))
    print(f"machine: {platform.system()} {platform.machine()}, {os.cpu_count()} cores, "
          f"load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}")

    started = time.monotonic()
    warm = await audit_tasks(tasks, work_dir=scratch / "warm", parallelism=args.parallelism)
    print(f"warm-up: {len(tasks)} task(s) in {time.monotonic() - started:.0f} s, at parallelism {args.parallelism} ({sum(t.verdict == 'accepted' for t in warm.tasks)} accepted); "
          f"first audit per task: median {statistics.median(a.duration_s for a in warm.tasks):.1f} s")

    timed: list[TaskAudit] = []
    for task in tasks:
        timed.append(await audit_task(task, work_dir=scratch / "timed"))
        audit = timed[-1]
        print(f"  {audit.task:26s} {audit.duration_s:6.1f} s  {audit.verdict}"
              + (f" ({', '.join(audit.failed_gates)})" if audit.failed_gates else ""), flush=True)
    seconds = [a.duration_s for a in timed]
    print(f"audit time per task, warm cache: median {statistics.median(seconds):.1f} s, "
          f"max {max(seconds):.1f} s (target <= 10); load average now {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    _print_breakdown(timed, scratch / "timed" / "trials")
    accepted = sum(a.verdict == "accepted" for a in timed)
    print(f"good tasks accepted: {accepted}/{len(timed)} = {accepted / len(timed):.0%} (target 100%)")

    bases = [b for b in args.variants_of.split(",") if b]
    if not bases:
        shutil.rmtree(scratch, ignore_errors=True)
        return
    jobs = []
    for base in bases:
        outputs = _outputs(scratch / "warm", base)
        for variant, (make, gate) in VARIANTS.items():
            copy = scratch / "variants" / f"{base}--{variant}"
            shutil.copytree(EXAMPLES / base, copy)
            make(copy, outputs)
            jobs.append((copy, gate, [EXAMPLES / base] if variant == "near-copy" else []))
    limit = asyncio.Semaphore(args.parallelism)

    async def one(task: Path, references: list[Path]) -> TaskAudit:
        async with limit:
            return await audit_task(task, references=references, work_dir=scratch / "variants-work")

    started = time.monotonic()
    results = await asyncio.gather(*(one(task, refs) for task, _gate, refs in jobs))
    rejected = caught = 0
    for (task, gate, _refs), audit in zip(jobs, results):
        rejected += audit.verdict == "rejected"
        caught += gate in audit.failed_gates
        print(f"  {task.name:45s} {audit.verdict:8s} failed: {', '.join(audit.failed_gates) or '-'}"
              f"{'' if gate in audit.failed_gates else f'  (expected {gate})'}")
    print(f"broken variants rejected: {rejected}/{len(jobs)} = {rejected / len(jobs):.0%} (target 100%); "
          f"by the intended gate: {caught}/{len(jobs)} = {caught / len(jobs):.0%}; "
          f"{time.monotonic() - started:.0f} s at parallelism {args.parallelism}")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", help="example tasks to time (default: all)")
    parser.add_argument("--variants-of", default="hello-greeting,log-error-summary,word-frequency-pipeline",
                        help="example tasks to break on purpose ('' skips the sensitivity part)")
    parser.add_argument("-p", "--parallelism", type=int, default=3)
    asyncio.run(main(parser.parse_args()))
