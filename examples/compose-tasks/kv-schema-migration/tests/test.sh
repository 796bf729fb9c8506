#!/bin/bash
# Verifier entry point: runs /tests/test_outputs.py, writes /logs/verifier/ctrf.json and
# /logs/verifier/reward.txt. Works with and without network:
#   1. pytest + pytest-json-ctrf if the environment already has them;
#   2. else pip-installs them into a private directory (PyPI reachable);
#   3. else the stdlib runner in ctrf_runner.py, which writes the same CTRF shape.
# The reward is computed from the CTRF report: REWARD_MODE=all (default) gives 1 only when
# every test passed, REWARD_MODE=fraction gives passed/total ([verifier.env] in task.toml).
set -u
LOGS=/logs/verifier
DEPS=/tmp/verifier-deps
mkdir -p "$LOGS"
rm -f "$LOGS/ctrf.json"

has_pytest() { python3 -c "import pytest, ctrf" >/dev/null 2>&1; }

if ! has_pytest; then
  python3 -m pip install --quiet --disable-pip-version-check --retries=0 --timeout=15 \
    --target "$DEPS" pytest==8.4.1 pytest-json-ctrf==0.3.5 >/dev/null 2>&1 \
    && export PYTHONPATH="$DEPS${PYTHONPATH:+:$PYTHONPATH}"
fi

if has_pytest; then
  python3 -m pytest -rA -p no:cacheprovider --ctrf "$LOGS/ctrf.json" /tests/test_outputs.py
else
  echo "pytest unavailable (offline?): using the stdlib runner"
  python3 /tests/ctrf_runner.py run /tests/test_outputs.py "$LOGS/ctrf.json"
fi

python3 /tests/ctrf_runner.py reward "$LOGS/ctrf.json" "$LOGS/reward.txt" --mode "${REWARD_MODE:-all}"
