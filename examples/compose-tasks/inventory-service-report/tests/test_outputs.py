"""Checks for inventory-service-report: the report matches what the inventory service serves now."""

import json
import urllib.request
from pathlib import Path

REPORT = Path("/app/report.json")


def served_items():
    items, page = [], 1
    while page is not None:
        with urllib.request.urlopen(f"http://inventory:8080/items?page={page}", timeout=10) as reply:
            body = json.load(reply)
        items += body["items"]
        page = body["next_page"]
    return items


def report():
    return json.loads(REPORT.read_text())


def test_report_exists():
    assert REPORT.is_file(), f"{REPORT} was not created"
    assert isinstance(report(), dict)


def test_total_units():
    assert report().get("total_units") == sum(item["units"] for item in served_items())


def test_units_by_category():
    expected = {}
    for item in served_items():
        expected[item["category"]] = expected.get(item["category"], 0) + item["units"]
    assert report().get("by_category") == expected


def test_restock_list():
    assert report().get("restock") == sorted(item["sku"] for item in served_items() if item["units"] < 5)
