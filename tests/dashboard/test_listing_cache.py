"""The task list's cache: a page is served from memory while its listing is current, a change on disk shows
once the listing is due (at once when it is older than STALE_MAX_S, after one background rebuild when it is
between ROWS_TTL_S and STALE_MAX_S old), an unchanged table answers 304 to its ETag, and a page held in
memory is served only behind the guard and only for queries the route accepts."""

from __future__ import annotations

import json
import time
from pathlib import Path

from skillspark.dashboard.listing import ROWS_TTL_S, STALE_MAX_S
from tests.dashboard.conftest import AUTH_HEADER, make_client, run_id_of


def add_attempt(run: Path, task: str, attempt: int) -> None:
    folder = run / task
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "trajectory.jsonl").open("a") as log:
        log.write(json.dumps({"type": "execution_result", "attempt": attempt, "status": "FAIL", "reward": 0.0}) + "\n")
    (folder / "attempts.json").write_text(json.dumps({"state": "running", "max_retries": 5, "attempts": []}))


def explore_folder(tmp_path: Path) -> Path:
    run = tmp_path / "runs" / "wide"
    run.mkdir(parents=True)
    (run / "spend.json").write_text(json.dumps({"spent_usd": 0.5}))
    add_attempt(run, "task-a", 0)
    return run


def age(reader, seconds: float) -> None:
    """Make the reader's listing `seconds` old, as if that much time had passed since its rebuild."""
    reader._listed_at = time.monotonic() - seconds


def setup(tmp_path: Path):
    run = explore_folder(tmp_path)
    client = make_client([run.parent])
    rid = run_id_of(client, "explore")
    board = client.app.state.board
    return run, client, f"/api/runs/{rid}/tasks", board.reader(board.run(rid))


def test_a_task_added_after_a_request_shows_once_the_listing_is_due(tmp_path):
    run, client, url, reader = setup(tmp_path)
    first = client.get(url)
    assert first.json()["total"] == 1
    etag = first.headers["etag"]
    add_attempt(run, "task-b", 0)
    age(reader, 0)
    cached = client.get(url)  # within ROWS_TTL_S: the same bytes, no disk read
    assert cached.json()["total"] == 1 and cached.headers["etag"] == etag
    assert client.get(url, headers={"if-none-match": etag}).status_code == 304
    age(reader, STALE_MAX_S + 0.1)  # too old to serve: rebuilt before the answer
    fresh = client.get(url, headers={"if-none-match": etag})
    assert fresh.status_code == 200 and fresh.headers["etag"] != etag
    assert [t["task"] for t in fresh.json()["tasks"]] == ["task-a", "task-b"]


def test_a_listing_due_for_a_rebuild_is_served_once_more_while_one_thread_rebuilds_it(tmp_path):
    run, client, url, reader = setup(tmp_path)
    listed = reader.rows()
    assert listed[0].attempts == 1
    add_attempt(run, "task-a", 1)
    age(reader, (ROWS_TTL_S + STALE_MAX_S) / 2)
    assert reader.fresh() is listed  # the previous listing at once; a rebuild started in a thread
    deadline = time.monotonic() + 30
    while reader._lock.locked() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert reader.fresh()[0].attempts == 2
    assert client.get(url).json()["tasks"][0]["attempts"] == 2
    age(reader, STALE_MAX_S)
    assert reader.fresh() is None  # too old: the request rebuilds it in a worker thread first


def test_an_unchanged_listing_stays_the_same_object_so_its_pages_stay_built(tmp_path):
    run, client, url, reader = setup(tmp_path)
    listed = reader.rows()
    reader.expire()
    assert reader.rows() is listed
    add_attempt(run, "task-a", 1)
    reader.expire()
    again = reader.rows()
    assert again is not listed and again[0].attempts == 2


def test_a_held_page_is_not_served_past_the_guard_or_for_a_query_the_route_refuses(tmp_path):
    run = explore_folder(tmp_path)
    client = make_client([run.parent], client_host="192.0.2.7", token_configured=True)  # remote: GETs need the token
    rid = client.get("/api/runs", headers=AUTH_HEADER).json()[0]["id"]
    url = f"/api/runs/{rid}/tasks"
    assert client.get(url, params={"q": "task a", "limit": 5}, headers=AUTH_HEADER).json()["total"] == 0
    assert client.get(url, params={"q": "task-a", "limit": 5}, headers=AUTH_HEADER).json()["total"] == 1
    held = client.get(f"{url}?q=task%2Da&limit=5", headers=AUTH_HEADER)  # the same page, spelled otherwise
    assert held.json()["total"] == 1 and held.headers["x-content-type-options"] == "nosniff"
    assert client.get(url, params={"q": "task-a", "limit": 5}).status_code == 401  # no token: refused first
    for refused in ({"limit": 5000}, {"offset": -1}, {"sort": "bogus"}, {"order": "up"}):
        assert client.get(url, params=refused, headers=AUTH_HEADER).status_code == 422, refused
