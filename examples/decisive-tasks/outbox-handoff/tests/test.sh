#!/bin/bash
# Verifier: runs /tests/test_outputs.py with the stdlib runner (offline, no installs) and turns its
# CTRF report (/logs/verifier/ctrf.json) into /logs/verifier/reward.txt: 1 only when every check passed.
set -u
LOGS=/logs/verifier
mkdir -p "$LOGS"
rm -f "$LOGS/ctrf.json"
python3 /tests/ctrf_runner.py run /tests/test_outputs.py "$LOGS/ctrf.json"
python3 /tests/ctrf_runner.py reward "$LOGS/ctrf.json" "$LOGS/reward.txt" --mode all
