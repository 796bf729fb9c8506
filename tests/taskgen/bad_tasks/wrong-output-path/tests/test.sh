#!/bin/bash
# Runs every test_* function of /tests/test_outputs.py with the stdlib; reward 1 when all pass.
mkdir -p /logs/verifier
python3 - <<'PY'
import importlib.util

spec = importlib.util.spec_from_file_location("checks", "/tests/test_outputs.py")
checks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(checks)
failed = 0
for name in sorted(n for n in vars(checks) if n.startswith("test")):
    try:
        getattr(checks, name)()
        print("passed", name)
    except Exception as exc:
        failed += 1
        print("failed", name, repr(exc))
open("/logs/verifier/reward.txt", "w").write("0" if failed else "1")
PY
