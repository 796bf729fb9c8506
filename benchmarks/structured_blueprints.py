"""Structured outputs with the embedded model: `tasks generate --model local/smollm2` on SPARK's three
example ideas (wav amplitude, STL part mass, weather anomalies), and how every blueprint answer went.

Prints, per idea: rounds run, blueprint answers, how many parsed against `TaskBlueprint` (schema-valid),
the route and parse mode of each answer, seconds per round, the outcome and the first failed check;
then the totals. Goal (issue 17): schema-valid in every round (a rejection by critique or gates is fine;
"not valid JSON" is not). Run: `.venv/bin/python benchmarks/structured_blueprints.py [--rounds 2]`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IDEAS = ["wav-amplitude.json", "stl-part-mass.json", "weather-anomalies.json"]
SKILLSPARK = Path(sys.executable).with_name("skillspark")


def run_idea(idea: Path, out: Path, rounds: int) -> dict:
    started = time.monotonic()
    done = subprocess.run([str(SKILLSPARK), "tasks", "generate", "--prompt-file", str(idea), "--model",
                           "local/smollm2", "--output", str(out), "--max-rounds", str(rounds)],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    seconds = time.monotonic() - started
    [run] = (out / "_runs").iterdir()
    events = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]
    answers = [e for e in events if e["stage"] == "blueprint_answer"]
    calls = [json.loads(line) for line in (run / "calls.jsonl").read_text().splitlines()]
    [candidate] = json.loads((run / "state.json").read_text())["candidates"]
    return {"idea": idea.stem, "exit": done.returncode, "seconds": seconds, "rounds": candidate["rounds"],
            "answers": len(answers), "valid": sum(a["valid"] for a in answers),
            "routes": Counter(f"{a['route']}{'+fallback' if a['route_fallback'] else ''}/{a['parse']}" for a in answers),
            "status": candidate["status"], "reason": (candidate.get("reason") or "")[:110],
            "tokens": sum(c["completion_tokens"] for c in calls), "calls": len(calls),
            "traceback": "Traceback" in done.stdout + done.stderr}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; rounds per idea: {args.rounds}")
    results = []
    with tempfile.TemporaryDirectory(prefix="structured-bench-") as tmp:
        for name in IDEAS:
            result = run_idea(ROOT / "examples" / "ideas" / name, Path(tmp) / name.removesuffix(".json"), args.rounds)
            results.append(result)
            print(f"{result['idea']:<18} exit {result['exit']}  rounds {result['rounds']}  schema-valid "
                  f"{result['valid']}/{result['answers']}  {dict(result['routes'])}  "
                  f"{result['seconds'] / max(1, result['rounds']):.0f} s/round  {result['calls']} calls "
                  f"{result['tokens']} completion tokens  {result['status']}: {result['reason']}"
                  + ("  TRACEBACK" if result["traceback"] else ""), flush=True)
    valid, answers = sum(r["valid"] for r in results), sum(r["answers"] for r in results)
    rounds, seconds = sum(r["rounds"] for r in results), sum(r["seconds"] for r in results)
    print(f"total: schema-valid blueprints {valid}/{answers} answers over {rounds} rounds; "
          f"{seconds / max(1, rounds):.0f} s per round (wall {seconds:.0f} s); "
          f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
