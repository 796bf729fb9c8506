"""SkillsBench compatibility: a seeded random sample of tasks through `skillspark tasks check`, table by class.

How much of a real Docker-based task suite runs in the local sandbox, and why the rest does not
(issue 20). The sample is drawn from a public snapshot of SkillsBench (a checkout, or a git
directory whose large blobs may be absent: a task with a missing file is incomplete and left out
of the draw), minus tasks whose names are among this repo's examples. Every task is checked with
the real CLI (build, oracle, nop, oracle again for failures); the table counts tasks by verdict and
failure class.

Run: `uv run --frozen python benchmarks/skillsbench_sample.py SNAPSHOT --seed 20261207 -n 30 --out DIR [-p 2]`
     `... --table-only` prints the table again from DIR/report.json (a report from before failure classes
     is classified from its trial dirs, without the second oracle run).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_DIRS = [REPO / "examples" / name for name in ("tasks", "compat-tasks", "decisive-tasks", "failure-classes")]


def example_names() -> set[str]:
    return {p.name for folder in EXAMPLE_DIRS if folder.is_dir() for p in folder.iterdir() if p.is_dir()}


def _git(git_dir: Path, *args: str, data: bytes | None = None) -> bytes:
    return subprocess.run(["git", "--git-dir", str(git_dir), *args], input=data, capture_output=True, check=True).stdout


def snapshot_tasks(snapshot: Path) -> dict[str, dict[str, str]]:
    """Complete tasks of a git snapshot: name -> {path in task: blob id}; tasks with an absent blob left out."""
    listing = _git(snapshot, "ls-tree", "-r", "HEAD", "tasks").decode().splitlines()
    entries = [(line.split()[2], line.split("\t", 1)[1]) for line in listing]
    present = _git(snapshot, "cat-file", "--batch-check", data="\n".join(b for b, _ in entries).encode() + b"\n")
    missing = {line.split()[0] for line in present.decode().splitlines() if line.endswith("missing")}
    tasks: dict[str, dict[str, str]] = {}
    incomplete: set[str] = set()
    for blob, path in entries:
        parts = path.split("/", 2)
        if len(parts) < 3:
            continue
        tasks.setdefault(parts[1], {})[parts[2]] = blob
        if blob in missing:
            incomplete.add(parts[1])
    return {name: files for name, files in tasks.items() if name not in incomplete and "task.toml" in files}


def checkout_tasks(snapshot: Path) -> dict[str, Path]:
    root = snapshot / "tasks" if (snapshot / "tasks").is_dir() else snapshot
    return {p.name: p for p in root.iterdir() if (p / "task.toml").is_file()}


def draw(names: list[str], seed: int, n: int) -> list[str]:
    """The seeded sample: the same names for the same snapshot, seed and n."""
    pool = sorted(set(names) - example_names())
    return sorted(random.Random(seed).sample(pool, min(n, len(pool))))


def materialize(snapshot: Path, names: list[str], target: Path) -> None:
    """Copy the sampled tasks to `target/<name>` (from a checkout, or blob by blob from a git dir)."""
    target.mkdir(parents=True, exist_ok=True)
    if (snapshot / "HEAD").is_file() and (snapshot / "objects").is_dir():
        tasks = snapshot_tasks(snapshot)
        for name in names:
            for rel, blob in tasks[name].items():
                path = target / name / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(_git(snapshot, "cat-file", "blob", blob))
                if rel.endswith(".sh"):
                    path.chmod(0o755)
    else:
        sources = checkout_tasks(snapshot)
        for name in names:
            shutil.copytree(sources[name], target / name, dirs_exist_ok=True)


def classify_old_report(report: dict) -> dict:
    """Give a report written before failure classes existed its classes, from its trial dirs (no second oracle run).

    For the "before" column: the same classifier on the trials the older code ran.
    """
    from harbor.models.trial.result import TrialResult

    from skillspark.harbor.tasks import inspect_task
    from skillspark.harbor.trials import TrialOutcome, outcome_from_result
    from skillspark.taskgen.check import TaskCheck, TaskLimits, failure_of

    def outcome(summary: dict | None):
        if summary is None:
            return None
        trial_dir = Path(summary["trial_dir"])
        if not (trial_dir / "result.json").is_file():  # Harbor could not create the trial: what the report kept
            return TrialOutcome(task_name=trial_dir.name, trial_dir=trial_dir, status=summary["status"],
                                infra_kind="setup", exception_type=summary["exception_type"],
                                exception_message=summary["exception_message"], duration_s=summary["duration_s"])
        result = TrialResult.model_validate_json((trial_dir / "result.json").read_text())
        return outcome_from_result(result, trial_dir, summary["duration_s"])

    for task in report["tasks"]:
        if task["verdict"] == "valid" or task.get("failure_class"):
            continue
        check = TaskCheck.model_validate(task)
        info = inspect_task(Path(task["path"])).info
        if info is None or check.oracle is None:
            task["failure_class"], task["failure_detail"] = "broken", check.reasons[0]
            continue
        failure = failure_of(check, outcome(task["oracle"]), outcome(task["nop"]),
                             TaskLimits.of(info.config, info.path, 1.0))
        task["failure_class"] = failure.failure_class if failure else "broken"
        task["failure_detail"] = failure.detail if failure else f"{check.reasons[0]} (one oracle run)"
    return report


def class_table(report: dict) -> list[tuple[str, int]]:
    """Rows (label, count): passing tasks, then each failure class, then the pass rate line."""
    tasks = report["tasks"]
    counts = Counter("pass (valid)" if t["verdict"] == "valid" else t.get("failure_class") or t["verdict"]
                     for t in tasks)
    return sorted(counts.items(), key=lambda item: (item[0] != "pass (valid)", -item[1], item[0]))


def print_table(report: dict, out_dir: Path) -> None:
    rows = class_table(report)
    total = len(report["tasks"])
    print(f"\nSkillsBench sample: {total} tasks ({out_dir})")
    print(f"{'class':<22} {'tasks':>5}")
    for label, count in rows:
        print(f"{label:<22} {count:>5}")
    passed = sum(t["verdict"] == "valid" for t in report["tasks"])
    print(f"oracle passes (valid): {passed}/{total} = {passed / max(total, 1):.0%}")
    for task in report["tasks"]:
        if task["verdict"] != "valid":
            detail = task.get("failure_detail") or "; ".join(task["reasons"])[:200]
            print(f"  {task['task']}: {task.get('failure_class') or task['verdict']}: {detail}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("snapshot", type=Path, help="SkillsBench git dir or checkout (its tasks/ folder)")
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("-n", type=int, default=30)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("-p", type=int, default=2, help="tasks checked at once")
    parser.add_argument("--table-only", action="store_true", help="print the table from OUT/report.json")
    parser.add_argument("--check-args", default="", help="extra arguments for `skillspark tasks check`")
    parser.add_argument("--only", default="", help="comma-separated names: check only these of the sample (a rerun)")
    args = parser.parse_args()
    report_path = args.out / "report.json"
    if not args.table_only:
        is_git = (args.snapshot / "HEAD").is_file()
        names = draw(list(snapshot_tasks(args.snapshot) if is_git else checkout_tasks(args.snapshot)), args.seed, args.n)
        if args.only:
            names = [name for name in names if name in set(args.only.split(","))]
        if not names:
            print(f"error: no complete task drawn from {args.snapshot} (with --only {args.only!r}); pass the "
                  "SkillsBench git dir or checkout that holds tasks/", file=sys.stderr)
            return 2
        print(f"seed {args.seed}: {len(names)} tasks: {', '.join(names)}", flush=True)
        materialize(args.snapshot, names, args.out / "tasks")
        started = time.monotonic()
        command = [str(REPO / ".venv" / "bin" / "skillspark"), "tasks", "check", str(args.out / "tasks"),
                   "-p", str(args.p), "--json", str(report_path), "--trials-dir", str(args.out / "trials"),
                   *args.check_args.split()]
        subprocess.run(command, env={**os.environ, "COLUMNS": "200"})
        load = os.getloadavg()
        print(f"checked in {time.monotonic() - started:.0f} s; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    if not report_path.is_file():
        print(f"no report at {report_path}", file=sys.stderr)
        return 2
    report = json.loads(report_path.read_text())
    if any(t["verdict"] != "valid" and "failure_class" not in t for t in report["tasks"]):
        report = classify_old_report(report)
    print_table(report, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
