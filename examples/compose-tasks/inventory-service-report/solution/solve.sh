#!/bin/bash
set -euo pipefail
python3 - <<'PY'
import json
import urllib.request

items, page = [], 1
while page is not None:
    with urllib.request.urlopen(f"http://inventory:8080/items?page={page}", timeout=10) as reply:
        body = json.load(reply)
    items += body["items"]
    page = body["next_page"]
by_category = {}
for item in items:
    by_category[item["category"]] = by_category.get(item["category"], 0) + item["units"]
report = {"total_units": sum(i["units"] for i in items), "by_category": by_category,
          "restock": sorted(i["sku"] for i in items if i["units"] < 5)}
with open("/app/report.json", "w") as out:
    json.dump(report, out, indent=2)
PY
