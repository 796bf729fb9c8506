#!/bin/bash
set -euo pipefail
units-table
python3 - <<'PY'
to_celsius = {"C": lambda v: v, "F": lambda v: (v - 32) * 5 / 9, "K": lambda v: v - 273.15}
rows = ["sensor,celsius"]
for line in open("/app/readings.txt"):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    sensor, value, unit = line.split()
    rows.append(f"{sensor},{to_celsius[unit](float(value)):.1f}")
open("/app/celsius.csv", "w").write("\n".join(rows) + "\n")
PY
cat /app/celsius.csv
