"""Live updates over SSE against a real server: new lines arrive as events, Last-Event-ID resumes exactly,
a quiet stream sends heartbeats, and the row stream follows a task's status."""

from __future__ import annotations

import json
import threading
import time

import httpx

from skillspark.files import append_line
from tests.dashboard.conftest import spark_run

TASK = "find-topk-similiar-chemicals"
NEW_RECORD = {"type": "pdi_snapshot", "attempt": 3, "step": 3, "proxy_exec": 0.1, "proxy_plan": 0.2, "proxy_oss": 0.3,
              "raw_pdi": -1.0, "weight": 1.0, "weighted_pdi": -1.0, "triggered": True, "level": "strong"}


def read_events(url: str, *, headers: dict | None = None, until: int = 1, want: str = "record", timeout: float = 15.0,
                after_open=None) -> list[tuple[str | None, str, str]]:
    """(id, event, data) of the events up to the `until`-th named `want` (comments as ('', ':', text)),
    calling after_open once connected."""
    events: list[tuple[str | None, str, str]] = []
    with httpx.stream("GET", url, headers=headers or {}, timeout=timeout) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        if after_open:
            threading.Timer(0.3, after_open).start()
        block: dict[str, str] = {}
        deadline = time.monotonic() + timeout
        for line in response.iter_lines():
            if line.startswith(":"):
                events.append(("", ":", line))
            elif line:
                field, _, value = line.partition(": ")
                block[field] = value
            elif block:
                if "event" in block:
                    events.append((block.get("id"), block["event"], block.get("data", "")))
                block = {}
            if sum(e[1] == want for e in events) >= until or time.monotonic() > deadline:
                break
    return events


def test_appended_line_arrives_and_last_event_id_resumes(tmp_path, serve):
    run = spark_run(tmp_path / "spark")
    base = serve([tmp_path], poll_s=0.05)
    rid = httpx.get(f"{base}/api/runs").json()[0]["id"]
    log = run / TASK / "trajectory.jsonl"
    cursor = httpx.get(f"{base}/api/runs/{rid}/tasks/{TASK}").json()["cursor"]
    url = f"{base}/api/events?run={rid}&task={TASK}"

    events = [e for e in read_events(url, headers={"Last-Event-ID": cursor}, until=1,
                                     after_open=lambda: append_line(log, json.dumps(NEW_RECORD)))
              if e[1] == "record"]
    event_id, _, data = events[0]
    record = json.loads(data)
    assert record["type"] == "pdi_snapshot" and record["level"] == "strong" and record["line"] == 10
    assert int(event_id.partition(":")[0]) == log.stat().st_size

    # resuming from the cursor before the append replays exactly that line, and nothing older
    replay = [e for e in read_events(url, headers={"Last-Event-ID": cursor}, until=1) if e[1] == "record"]
    assert [json.loads(d)["line"] for _, _, d in replay] == [10]
    # resuming from the latest id gives nothing old: the next event is the next line
    second = dict(NEW_RECORD, attempt=4)
    later = [e for e in read_events(url, headers={"Last-Event-ID": event_id}, until=1,
                                    after_open=lambda: append_line(log, json.dumps(second))) if e[1] == "record"]
    assert [json.loads(d)["attempt"] for _, _, d in later] == [4]


def test_quiet_stream_sends_heartbeats(tmp_path, serve):
    spark_run(tmp_path / "spark")
    base = serve([tmp_path], poll_s=0.05, heartbeat_s=0.2)
    rid = httpx.get(f"{base}/api/runs").json()[0]["id"]
    received = []
    with httpx.stream("GET", f"{base}/api/events?run={rid}&task={TASK}", timeout=10) as response:
        for line in response.iter_lines():
            received.append(line)
            if sum(x == ": heartbeat" for x in received) >= 2:
                break
    assert received[0] == "retry: 2000"
    assert sum(x == ": heartbeat" for x in received) == 2


def test_row_stream_follows_a_task_status(tmp_path, serve):
    run = spark_run(tmp_path / "spark")
    base = serve([tmp_path], poll_s=0.05)
    rid = httpx.get(f"{base}/api/runs").json()[0]["id"]
    cursor = httpx.get(f"{base}/api/runs/{rid}/tasks").json()["cursor"]
    summary = {"type": "task_summary", "task_name": TASK, "success": True, "total_attempts": 4,
               "reward_trajectory": [0, 0, 0, 1], "status_trajectory": ["FAIL", "FAIL", "FAIL", "PASS"],
               "total_time_s": 1.0, "total_input_tokens": 1, "total_output_tokens": 1}
    log = run / TASK / "trajectory.jsonl"
    events = read_events(f"{base}/api/events?run={rid}", headers={"Last-Event-ID": cursor}, until=1, want="row",
                         after_open=lambda: append_line(log, json.dumps(summary)))
    rows = [json.loads(d) for _, name, d in events if name == "row"]
    assert rows[0]["task"] == TASK and rows[0]["status"] == "solved"


def test_runs_stream_sends_the_list(tmp_path, serve):
    spark_run(tmp_path / "spark")
    base = serve([tmp_path], poll_s=0.05)
    events = read_events(f"{base}/api/events", until=1, want="runs")
    runs = json.loads(next(d for _, name, d in events if name == "runs"))["runs"]
    assert [r["kind"] for r in runs] == ["spark"]
