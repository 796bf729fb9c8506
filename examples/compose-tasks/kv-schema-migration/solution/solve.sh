#!/bin/bash
set -euo pipefail
python3 - <<'PY'
import json
import os
import socket

host, port = os.environ.get("KV_ADDRESS", "kv:7070").split(":")
with socket.create_connection((host, int(port)), timeout=10) as conn:
    replies = conn.makefile()

    def call(line):
        conn.sendall((line + "\n").encode())
        return replies.readline().rstrip("\n")

    keys = call("KEYS u:").split()[1:]
    migrated, skipped = 0, []
    for key in keys:
        value = call(f"GET {key}").removeprefix("VALUE ")
        fields = value.split("|")
        if len(fields) != 3:
            skipped.append(key)
            continue
        first, _, last = fields[0].partition(" ")
        record = {"first": first, "last": last, "email": fields[1], "signup_year": int(fields[2][:4])}
        assert call(f"SET {key} {json.dumps(record, separators=(',', ':'))}") == "OK"
        migrated += 1
    assert call("SET meta:schema 2") == "OK"
skipped.sort(key=lambda k: int(k.split(":")[1]))
with open("/app/migration.json", "w") as out:
    json.dump({"migrated": migrated, "skipped": skipped, "schema": 2}, out, indent=2)
PY
