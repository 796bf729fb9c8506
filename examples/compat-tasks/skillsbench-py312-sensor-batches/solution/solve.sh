#!/bin/bash
set -euo pipefail
python3 - <<'PY'
from itertools import batched  # new in Python 3.12

import tomli_w

lines = open("/root/data/readings.txt").read().split()
readings = [float(line) for line in lines]
tables = {f"batch{i}": {"count": len(b), "mean": round(sum(b) / len(b), 3)}
          for i, b in enumerate(batched(readings, 4), start=1)}
with open("/root/batches.toml", "wb") as fh:
    tomli_w.dump(tables, fh)
PY
cat /root/batches.toml
