#!/bin/bash
set -euo pipefail
python3 - <<'PY'
import csv

with open("/root/data/lifts.csv", newline="") as src, open("/root/data/totals.csv", "w", newline="") as dst:
    out = csv.writer(dst)
    out.writerow(["name", "total"])
    for row in csv.DictReader(src):
        lifts = [row["squat"], row["bench"], row["deadlift"]]
        if all(lifts):
            out.writerow([row["name"], f"{sum(float(x) for x in lifts):.1f}"])
PY
cat /root/data/totals.csv
