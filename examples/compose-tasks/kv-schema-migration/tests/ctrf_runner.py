"""Stdlib-only companion of test.sh (the verifier may run where pytest cannot be installed).

`run TESTFILE OUT.json`: imports TESTFILE, calls every top-level `test_*` function in file
order and writes a CTRF report shaped like pytest-json-ctrf's, so downstream readers (the
SPARK judge) see one format whichever runner produced it.
`reward CTRF.json OUT.txt --mode all|fraction`: turns a CTRF report into Harbor's reward;
a missing or unreadable report (pytest crashed before writing it) scores 0.
"""

import argparse
import importlib.util
import inspect
import json
import sys
import time
import traceback
from pathlib import Path


def _load_module(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    spec.loader.exec_module(module)
    return module


def _run_one(name: str, func) -> dict:
    start = int(time.time() * 1000)
    record = {"name": name, "status": "passed"}
    try:
        func()
    except Exception as exc:  # a failing check, whatever it raised
        record["status"] = "failed"
        record["message"] = f"{type(exc).__name__}: {exc}"
        record["trace"] = traceback.format_exc(limit=-3)
    stop = int(time.time() * 1000)
    record.update(duration=stop - start, start=start, stop=stop)
    return record


def run_tests(test_file: Path, out: Path) -> bool:
    """Run the tests of one file and write the CTRF report; True when all passed."""
    start = int(time.time() * 1000)
    try:
        module = _load_module(test_file)
        funcs = [
            (name, func)
            for name, func in inspect.getmembers(module, inspect.isfunction)
            if name.startswith("test_") and func.__module__ == module.__name__
        ]
        funcs.sort(key=lambda item: item[1].__code__.co_firstlineno)
        tests = [_run_one(f"{test_file.name}::{name}", func) for name, func in funcs]
    except Exception as exc:  # import error: report it as one failed test
        tests = [{"name": f"{test_file.name}::<import>", "status": "failed",
                  "message": f"{type(exc).__name__}: {exc}", "duration": 0}]
    for test in tests:
        mark = "PASSED" if test["status"] == "passed" else "FAILED"
        print(f"{mark} {test['name']}" + (f" - {test['message']}" if "message" in test else ""))
    passed = sum(t["status"] == "passed" for t in tests)
    summary = {"tests": len(tests), "passed": passed, "failed": len(tests) - passed,
               "skipped": 0, "pending": 0, "other": 0,
               "start": start, "stop": int(time.time() * 1000)}
    report = {"reportFormat": "CTRF", "specVersion": "1.0.0", "generatedBy": "ctrf_runner",
              "results": {"tool": {"name": "ctrf_runner"}, "summary": summary, "tests": tests}}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    return passed == len(tests)


def reward_from_ctrf(report_path: Path, mode: str) -> float:
    """1/0 (mode "all") or passed/total (mode "fraction") from a CTRF report."""
    try:
        tests = json.loads(report_path.read_text())["results"]["tests"]
    except (OSError, ValueError, KeyError, TypeError):
        return 0.0
    if not tests:
        return 0.0
    passed = sum(t.get("status") == "passed" for t in tests)
    if mode == "fraction":
        return round(passed / len(tests), 4)
    return 1.0 if passed == len(tests) else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run")
    run.add_argument("test_file", type=Path)
    run.add_argument("out", type=Path)
    reward = sub.add_parser("reward")
    reward.add_argument("ctrf", type=Path)
    reward.add_argument("out", type=Path)
    reward.add_argument("--mode", choices=["all", "fraction"], default="all")
    args = parser.parse_args()
    if args.command == "run":
        return 0 if run_tests(args.test_file, args.out) else 1
    value = reward_from_ctrf(args.ctrf, args.mode)
    args.out.write_text(f"{value:g}\n")
    print(f"reward: {value:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
