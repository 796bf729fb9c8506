#!/bin/bash
set -euo pipefail
csv-columns /root/data/expenses.csv
python3 - <<'PY'
import csv, json
totals = {}
with open("/root/data/expenses.csv", newline="") as fh:
    for row in csv.DictReader(fh):
        try:
            amount = float(row["amount"])
        except ValueError:
            continue
        if row["currency"] == "USD":
            amount *= 0.9
        totals[row["category"]] = totals.get(row["category"], 0.0) + amount
result = {name: round(value, 2) for name, value in sorted(totals.items())}
result["_all"] = round(sum(result.values()), 2)
with open("/root/totals.json", "w") as fh:
    json.dump(result, fh, indent=2)
PY
cat /root/totals.json
