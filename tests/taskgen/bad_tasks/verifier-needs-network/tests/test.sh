#!/bin/bash
# Needs the network first (as a verifier that downloads its reference data would), then runs the checks.
mkdir -p /logs/verifier
if ! python3 -c "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).connect(('192.0.2.1', 53))"; then
  echo "no route to the reference server"
  echo 0 > /logs/verifier/reward.txt
  exit 0
fi
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
