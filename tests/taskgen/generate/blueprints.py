"""Blueprints as a model would answer them: one good task and one broken variant per failure mode."""

from __future__ import annotations

import json

GENERATOR = '''import csv
import random
from pathlib import Path

rng = random.Random(SEED)
regions = ["north", "south", "east", "west"]
Path("/app/data").mkdir(parents=True, exist_ok=True)
with open("/app/data/orders.csv", "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(["order_id", "region", "amount_cents"])
    for i in range(PARAMS.get("rows", 40)):
        writer.writerow([f"O{i:04d}", rng.choice(regions), rng.randint(100, 99999)])
'''

ORACLE = '''import csv
import json
from collections import defaultdict

totals = defaultdict(int)
with open("/app/data/orders.csv", newline="") as f:
    for row in csv.DictReader(f):
        totals[row["region"]] += int(row["amount_cents"])
with open("/app/totals.json", "w") as f:
    json.dump(dict(sorted(totals.items())), f, indent=1)
'''

TESTS = '''import csv
import json
from collections import defaultdict
from pathlib import Path

OUTPUT = Path("/app/totals.json")


def expected():
    totals = defaultdict(int)
    with open("/app/data/orders.csv", newline="") as f:
        for row in csv.DictReader(f):
            totals[row["region"]] += int(row["amount_cents"])
    return dict(totals)


def test_regions():
    assert set(json.loads(OUTPUT.read_text())) == set(expected())


def test_totals():
    assert json.loads(OUTPUT.read_text()) == expected()
'''

INSTRUCTION = ("`/app/data/orders.csv` lists {{rows}} orders with columns `order_id, region, amount_cents`.\n\n"
               "Write `/app/totals.json`: a JSON object mapping each region to the sum of `amount_cents` of its "
               "orders (integers).\n")


def good(**changes) -> dict:
    """The good blueprint as a dict; `changes` replace top-level keys."""
    data = {
        "name": "region-totals",
        "title": "Sum order amounts per region",
        "difficulty": "easy",
        "category": "data-processing",
        "tags": ["csv", "json"],
        "instruction": INSTRUCTION,
        "environment": {"base_image": "python:3.11-slim-bookworm", "workdir": "/app"},
        "input_paths": ["/app/data/orders.csv"],
        "output_paths": ["/app/totals.json"],
        "data_generator": GENERATOR,
        "oracle": ORACLE,
        "tests": TESTS,
        "assumptions": ["amounts are integer cents"],
        "parameters": [{"name": "rows", "kind": "int", "default": 40, "minimum": 20, "maximum": 200}],
    }
    return data | changes


def answer(**changes) -> str:
    return json.dumps(good(**changes))


# one broken blueprint per failure mode the pipeline must catch before any build
VACUOUS_TESTS = TESTS.replace("    assert set(json.loads(OUTPUT.read_text())) == set(expected())",
                              "    OUTPUT.exists()").replace(
                              "    assert json.loads(OUTPUT.read_text()) == expected()", "    assert True")
HARD_CODED_ORACLE = ('import json\n\nwith open("/app/totals.json", "w") as f:\n'
                     '    json.dump({"north": 512345, "south": 498877}, f)\n')
NETWORK_TESTS = TESTS.replace("import csv\n", "import csv\nimport urllib.request\n", 1)
WRONG_PATH_ORACLE = ORACLE.replace("/app/totals.json", "/app/total.json")
CRASHING_ORACLE = ORACLE.replace('int(row["amount_cents"])', 'int(row["amount"])')
LEAKY_GENERATOR = GENERATOR + '''
import json as _json
_totals = {}
with open("/app/data/orders.csv", newline="") as f:
    for row in csv.DictReader(f):
        _totals[row["region"]] = _totals.get(row["region"], 0) + int(row["amount_cents"])
Path("/root/.expected.json").write_text(_json.dumps(dict(sorted(_totals.items())), indent=1))
'''
