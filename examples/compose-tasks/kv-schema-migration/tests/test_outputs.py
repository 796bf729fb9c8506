"""Checks for kv-schema-migration: the database holds schema 2 and the report says what was done."""

import json
import socket
from pathlib import Path

REPORT = Path("/app/migration.json")


def database():
    """Every key and value the database holds now."""
    with socket.create_connection(("kv", 7070), timeout=10) as conn:
        replies = conn.makefile()

        def call(line):
            conn.sendall((line + "\n").encode())
            return replies.readline().rstrip("\n")

        keys = call("KEYS ").split()[1:]
        return {key: call(f"GET {key}").removeprefix("VALUE ") for key in keys}


def users():
    return {key: value for key, value in database().items() if key.startswith("u:")}


def test_schema_is_two():
    assert database().get("meta:schema") == "2"


def test_records_are_schema_two_json():
    rewritten = [value for value in users().values() if value.startswith("{")]
    assert len(rewritten) >= 20, "the well-formed records were not rewritten"
    for value in rewritten:
        record = json.loads(value)
        assert list(record) == ["first", "last", "email", "signup_year"]
        assert value == json.dumps(record, separators=(",", ":"))
        assert isinstance(record["signup_year"], int) and 2010 <= record["signup_year"] <= 2025
        assert record["email"].startswith(f"{record['first']}.{record['last']}".lower())


def test_malformed_records_left_alone():
    left = [value for value in users().values() if not value.startswith("{")]
    assert len(left) == 3
    assert all(value.count("|") == 1 for value in left)


def test_report():
    report = json.loads(REPORT.read_text())
    current = users()
    skipped = sorted((k for k, v in current.items() if not v.startswith("{")), key=lambda k: int(k.split(":")[1]))
    assert report == {"migrated": len(current) - len(skipped), "skipped": skipped, "schema": 2}
