"""Stdlib test runner of a generated task's verifier, for images without pytest (nothing is downloaded).

`run_tests.py TESTFILE CTRF.json`: imports TESTFILE, calls each top-level `test_*` function in file
order and writes a CTRF report (the per-test file the SPARK judge reads).
`run_tests.py --reward CTRF.json REWARD.txt`: 1 when the report lists tests and all passed, else 0.
"""

import importlib.util
import json
import sys
import time
import traceback
from pathlib import Path


def run(test_file: Path, report: Path) -> None:
    tests = []
    try:
        sys.path.insert(0, str(test_file.parent))
        spec = importlib.util.spec_from_file_location(test_file.stem, test_file)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        functions = [f for name, f in vars(module).items()
                     if name.startswith("test_") and callable(f) and getattr(f, "__module__", "") == module.__name__]
    except Exception as exc:  # an import error fails the whole file, as one test
        functions = []
        tests.append({"name": f"{test_file.name}::<import>", "status": "failed", "message": repr(exc), "duration": 0})
    for function in sorted(functions, key=lambda f: f.__code__.co_firstlineno):
        started = time.time()
        record = {"name": f"{test_file.name}::{function.__name__}", "status": "passed"}
        try:
            function()
        except Exception as exc:  # a failed check, whatever it raised
            record.update(status="failed", message=f"{type(exc).__name__}: {exc}", trace=traceback.format_exc(limit=-3))
        record["duration"] = int((time.time() - started) * 1000)
        print(("PASSED " if record["status"] == "passed" else "FAILED ") + record["name"], record.get("message", ""))
        tests.append(record)
    passed = sum(t["status"] == "passed" for t in tests)
    summary = {"tests": len(tests), "passed": passed, "failed": len(tests) - passed, "skipped": 0, "pending": 0, "other": 0}
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps({"results": {"tool": {"name": "run_tests"}, "summary": summary, "tests": tests}}))


def reward(report: Path, out: Path) -> None:
    try:
        tests = json.loads(report.read_text())["results"]["tests"]
    except (OSError, ValueError, KeyError, TypeError):
        tests = []
    value = 1 if tests and all(t.get("status") == "passed" for t in tests) else 0
    out.write_text(f"{value}\n")
    print(f"reward: {value}")


if __name__ == "__main__":
    if sys.argv[1] == "--reward":
        reward(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        run(Path(sys.argv[1]), Path(sys.argv[2]))
