"""Every guard of issue 12, each by a test that fails if the guard is removed or loosened."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest

from skillspark.dashboard import security
from skillspark.dashboard.security import check_bind, read_token
from skillspark.errors import UserError
from skillspark.files import append_line
from tests.dashboard.conftest import AUTH_HEADER, BASE, TOKEN, XSS, free_port, make_client, run_id_of, spark_run

AUTH = AUTH_HEADER
TASK = "find-topk-similiar-chemicals"
STATIC = Path(security.__file__).parent / "static"


@pytest.fixture
def spark_root(tmp_path) -> Path:
    """The golden logs as a run of ours (a spend.json makes it one), so that a task cancel is honoured."""
    spark_run(tmp_path / "root" / "spark")
    (tmp_path / "root" / "spark" / "spend.json").write_text('{"spent_usd": 0.0, "max_cost_usd": null}')
    return tmp_path / "root"


def raw_get(app, raw_path: str) -> tuple[int, bytes]:
    """GET `raw_path` exactly as written (no client normalizes its dot segments), decoded as uvicorn decodes it."""
    messages: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        messages.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": unquote(raw_path), "raw_path": raw_path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"host", b"127.0.0.1:8765")], "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8765)}
    asyncio.run(app(scope, receive, send))
    return messages[0]["status"], b"".join(m.get("body", b"") for m in messages[1:])


def cancel_url(client) -> str:
    return f"/api/runs/{run_id_of(client, 'explore')}/tasks/{TASK}/cancel"


def test_non_loopback_bind_needs_a_token_file(tmp_path):
    check_bind("127.0.0.1", None)
    check_bind("::1", None)
    check_bind("localhost", None)
    with pytest.raises(UserError, match="--token-file"):
        check_bind("0.0.0.0", None)
    with pytest.raises(UserError, match="not a loopback"):
        check_bind("192.168.1.5", None)
    check_bind("0.0.0.0", tmp_path / "token")  # with one it is allowed


def test_cli_refuses_a_non_loopback_host_without_token_in_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-c", "from skillspark.cli import main; main()", "dashboard", str(tmp_path),
                             "--host", "0.0.0.0", "--port", str(free_port())],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.startswith("error: --host 0.0.0.0 is not a loopback address") and result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_token_file_must_hold_a_real_token(tmp_path):
    short = tmp_path / "short"
    short.write_text("abc\n")
    with pytest.raises(UserError, match="at least 16"):
        read_token(short)
    with pytest.raises(UserError, match="cannot read"):
        read_token(tmp_path / "missing")
    good = tmp_path / "good"
    good.write_text(TOKEN + "\n")
    assert read_token(good) == TOKEN


def test_cli_prints_the_token_in_the_url_fragment_and_the_token_works(spark_root):
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", "from skillspark.cli import main; main()", "dashboard",
                                str(spark_root), "--port", str(port), "--allow-launch"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        match = re.fullmatch(rf"dashboard: http://127\.0\.0\.1:{port}/#token=([A-Za-z0-9_\-]{{40,}})\n", line)
        assert match, line
        token = match.group(1)
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                runs = httpx.get(f"{base}/api/runs").json()
                break
            except httpx.TransportError:
                time.sleep(0.1)
        rid = runs[0]["id"]
        url = f"{base}/api/runs/{rid}/tasks/{TASK}/cancel"
        assert httpx.post(url).status_code == 401
        assert httpx.post(url, headers={"Authorization": "Bearer " + token[:-1] + "x"}).status_code == 401
        assert httpx.post(url, headers={"Authorization": f"Bearer {token}"}).status_code == 202
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_mutations_need_the_bearer_token(spark_root):
    client = make_client([spark_root], allow_launch=True)
    url = cancel_url(client)
    assert client.post(url).status_code == 401
    assert client.post(url).headers["www-authenticate"] == "Bearer"
    assert client.post(url, headers={"Authorization": "Bearer wrong-token-0123456789"}).status_code == 401
    assert client.post(url, headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
    assert client.post(url, headers=AUTH).status_code == 202
    for path in ("/api/runs", f"/api/runs/{run_id_of(client, 'explore')}/cancel"):
        assert client.post(path, json={}).status_code == 401
    assert client.delete("/api/runs").status_code == 401
    assert client.put("/api/runs").status_code == 401


def test_the_token_is_compared_in_constant_time(spark_root, monkeypatch):
    calls = []
    real = security.hmac.compare_digest

    def recording(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(security.hmac, "compare_digest", recording)
    client = make_client([spark_root], allow_launch=True)
    assert client.post(cancel_url(client), headers=AUTH).status_code == 202
    assert calls == [(TOKEN.encode(), TOKEN.encode())]


def test_actions_are_off_without_allow_launch(spark_root):
    client = make_client([spark_root])
    assert client.post(cancel_url(client), headers=AUTH).status_code == 403
    assert not (spark_root / "spark" / TASK / "cancel").exists()


def test_foreign_host_header_is_refused(spark_root):
    client = make_client([spark_root])
    assert client.get("/api/runs", headers={"Host": "attacker.example:8765"}).status_code == 403
    assert client.get("/", headers={"Host": "attacker.example"}).status_code == 403
    assert client.get("/api/runs", headers={"Host": "127.0.0.1.attacker.example"}).status_code == 403
    assert client.get("/api/runs", headers={"Host": "localhost:8765"}).status_code == 200
    assert client.get("/api/runs", headers={"Host": "[::1]:8765"}).status_code == 200


def test_cross_site_mutations_are_refused_even_with_the_token(spark_root):
    client = make_client([spark_root], allow_launch=True)
    url = cancel_url(client)
    assert client.post(url, headers=AUTH | {"Origin": "http://attacker.example"}).status_code == 403
    assert client.post(url, headers=AUTH | {"Origin": "null"}).status_code == 403
    assert client.post(url, headers=AUTH | {"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert client.post(url, headers=AUTH | {"Sec-Fetch-Site": "same-site"}).status_code == 403
    assert client.post(url, headers=AUTH | {"Origin": BASE, "Sec-Fetch-Site": "same-origin"}).status_code == 202


def test_security_headers_on_every_response(spark_root):
    client = make_client([spark_root])
    responses = [client.get("/"), client.get("/api/runs"), client.get("/static/app.js"), client.post("/api/runs"),
                 client.get("/api/runs", headers={"Host": "evil.example"}), client.get("/api/runs/none-000000")]
    assert [r.status_code for r in responses] == [200, 200, 200, 401, 403, 404]
    for response in responses:
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"


def test_remote_clients_need_the_token_and_get_nothing_without_one(spark_root):
    open_board = make_client([spark_root], client_host="192.168.1.20")
    assert open_board.get("/api/runs").status_code == 403
    assert open_board.get("/").status_code == 403
    shared = make_client([spark_root], client_host="192.168.1.20", token_configured=True, host="0.0.0.0")
    assert shared.get("/").status_code == 200  # the app itself holds no run data
    assert shared.get("/api/runs").status_code == 401
    assert shared.get("/api/events").status_code == 401
    assert shared.get("/api/runs", headers=AUTH).status_code == 200
    local = make_client([spark_root])
    assert local.get("/api/runs").status_code == 200  # loopback reads need no token


def test_task_and_trial_paths_stay_inside_the_served_folders(spark_root, tmp_path):
    outside = tmp_path / "outside"
    (outside / "secret-task").mkdir(parents=True)
    (outside / "secret-task" / "trajectory.jsonl").write_text(json.dumps({"type": "execution_result",
                                                                          "agent_commands": "SECRET"}) + "\n")
    (outside / "trial" / "agent").mkdir(parents=True)
    (outside / "trial" / "result.json").write_text('{"task_name": "SECRET"}')
    run = spark_root / "spark"
    (run / "linked-task").symlink_to(outside / "secret-task")
    (run / TASK / "linked-trial").symlink_to(outside / "trial")
    client = make_client([spark_root])
    rid = run_id_of(client, "explore")
    names = [t["task"] for t in client.get(f"/api/runs/{rid}/tasks").json()["tasks"]]
    assert "linked-task" not in names and len(names) == 3
    refused = [f"/api/runs/{rid}/tasks/linked-task", f"/api/runs/{rid}/tasks/..", f"/api/runs/{rid}/tasks/%2e%2e",
               f"/api/runs/{rid}/tasks/.%2e", f"/api/runs/{rid}/tasks/{TASK}%2f..%2f..",
               f"/api/runs/{rid}/trials/{TASK}/linked-trial", f"/api/runs/{rid}/trials/../outside/trial",
               f"/api/runs/{rid}/trials/%2e%2e/%2e%2e/outside/trial", f"/api/runs/{rid}/trials/{TASK}/%2e%2e/%2e%2e/..",
               f"/api/runs/{rid}/trials/%2Fetc%2Fpasswd"]
    for url in refused:
        status, body = raw_get(client.app, url)
        assert 400 <= status < 500, url
        assert b"SECRET" not in body, url


def test_a_planted_trajectory_link_is_not_read(spark_root, tmp_path):
    secret = tmp_path / "host-file.jsonl"
    secret.write_text(json.dumps({"type": "execution_result", "agent_commands": "SECRET", "attempt": 0}) + "\n")
    task = spark_root / "spark" / "planted"
    task.mkdir()
    (task / "attempts.json").write_text(json.dumps({"task_name": "planted", "max_retries": 3, "attempts": []}))
    (task / "trajectory.jsonl").symlink_to(secret)
    client = make_client([spark_root])
    rid = run_id_of(client, "explore")
    detail = client.get(f"/api/runs/{rid}/tasks/planted")
    assert detail.status_code == 200 and detail.json()["attempts"] == [] and "SECRET" not in detail.text
    assert client.get(f"/api/runs/{rid}/tasks/planted/records/0").status_code == 404


def test_api_keys_never_reach_a_response_or_an_event(spark_root, monkeypatch, serve):
    key = "sk-proj-dashboardTestKey0123456789"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    log = spark_root / "spark" / TASK / "trajectory.jsonl"
    with log.open("a") as handle:  # written as a foreign implementation would, unredacted
        handle.write(json.dumps({"type": "execution_result", "attempt": 3, "status": "FAIL", "reward": 0.0,
                                 "agent_stdout_full": f"echo $OPENAI_API_KEY\n{key}", "agent_commands": f"curl -H {key}"})
                     + "\n")
    client = make_client([spark_root])
    rid = run_id_of(client, "explore")
    detail = client.get(f"/api/runs/{rid}/tasks/{TASK}")
    record = client.get(f"/api/runs/{rid}/tasks/{TASK}/records/10")
    for response in (detail, record):
        assert response.status_code == 200 and key not in response.text and "[REDACTED]" in response.text
    base = serve([spark_root], poll_s=0.05)
    cursor = client.get(f"/api/runs/{rid}/tasks/{TASK}").json()["cursor"]
    offset = int(cursor.partition(":")[0])
    with httpx.stream("GET", f"{base}/api/events?run={rid}&task={TASK}",
                      headers={"Last-Event-ID": f"{offset - 1}:0"}, timeout=10) as response:
        seen = ""
        for line in response.iter_lines():
            seen += line + "\n"
            if line.startswith("data:") and "execution_result" in line:
                break
    assert key not in seen and "[REDACTED]" in seen
    assert os.environ["OPENAI_API_KEY"] == key


def test_page_inserts_run_values_as_text_only():
    """The page builds every node with textContent/text nodes: no HTML sink exists in its code at all."""
    script = (STATIC / "app.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
                 "srcdoc", "javascript:"):
        assert sink not in script, sink
    html = (STATIC / "index.html").read_text()
    assert "<script>" not in html and "style=" not in html  # nothing inline: CSP forbids it anyway


def test_xss_task_name_comes_back_as_data(spark_root):
    client = make_client([spark_root])
    rid = run_id_of(client, "explore")
    names = [t["task"] for t in client.get(f"/api/runs/{rid}/tasks").json()["tasks"]]
    assert XSS in names
    detail = client.get(f"/api/runs/{rid}/tasks/{XSS}")
    assert detail.status_code == 200 and detail.json()["task"] == XSS
    assert detail.headers["content-type"] == "application/json"


def test_sse_appends_reach_a_remote_client_only_with_the_token(spark_root):
    shared = make_client([spark_root], client_host="10.0.0.7", token_configured=True, host="0.0.0.0")
    rid = run_id_of(make_client([spark_root]), "explore")
    assert shared.get(f"/api/runs/{rid}/tasks/{TASK}").status_code == 401
    append_line(spark_root / "spark" / TASK / "trajectory.jsonl", json.dumps({"type": "pdi_snapshot"}))
    assert shared.get(f"/api/runs/{rid}/tasks/{TASK}/records/10", headers=AUTH).json() == {"type": "pdi_snapshot"}
