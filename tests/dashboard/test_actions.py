"""Actions (--allow-launch): launch as an argv list in its own process group, cancel only what the dashboard
started, resume from the signed launch record only (never a planted one), and a task cancel that the real
explore loop honours and --resume undoes."""

from __future__ import annotations

import json
import os
import time

import pytest

from skillspark.dashboard import launch
from skillspark.dashboard.runs import EVAL_CONFIG, run_id
from skillspark.explore.loop import CANCEL_FILE
from tests.dashboard.conftest import AUTH_HEADER, explore_run, make_client, run_id_of, spark_run
from tests.explore.test_loop import MEMOS, SKILL

# stands in for `skillspark` (with the real interpreter flags): records its argv in its working directory,
# then waits to be cancelled
FAKE_ENTRY = [*launch.ENTRY[:-1],
              "import json, sys, time; open('argv.json', 'w').write(json.dumps(sys.argv[1:])); time.sleep(120)"]


@pytest.fixture
def board(tmp_path, monkeypatch):
    monkeypatch.setattr(launch, "ENTRY", FAKE_ENTRY)
    monkeypatch.setenv("SKILLSPARK_CACHE_DIR", str(tmp_path / "cache"))  # the signing key's folder
    monkeypatch.chdir(tmp_path)  # the dashboard's working directory: the child's, and where argv.json lands
    root = tmp_path / "root"
    spark_run(root / "spark")
    (tmp_path / "tasks" / "t1").mkdir(parents=True)
    client = make_client([root], allow_launch=True)
    yield client, root, tmp_path
    for process in client.app.state.board.launcher.processes.values():
        if process.poll() is None:
            os.killpg(process.pid, 9)
            process.wait()


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_launch_runs_an_argv_list_in_its_own_process_group_and_cancel_signals_it(board):
    client, root, tmp = board
    response = client.post("/api/runs", headers=AUTH_HEADER, json={
        "kind": "explore", "paths": [str(tmp / "tasks" / "t1")], "output": "new-run", "model": "openai/gpt-4o-mini",
        "max_retries": 2, "parallelism": 3})
    assert response.status_code == 202, response.text
    started = response.json()
    output = root / "new-run"
    assert started["args"] == ["explore", str(tmp / "tasks" / "t1"), "--output", str(output), "--model",
                               "openai/gpt-4o-mini", "--max-attempts", "2", "--parallelism", "3"]
    pid = started["pid"]
    assert os.getpgid(pid) == pid and os.getpgid(pid) != os.getpgid(0)  # its own group, not ours
    assert wait_for(lambda: (tmp / "argv.json").exists())
    assert json.loads((tmp / "argv.json").read_text()) == started["args"]  # one argv item per value, no shell
    record = json.loads((output / launch.LAUNCH_FILE).read_text())
    assert record["args"] == started["args"] and len(record["mac"]) == 64
    runs = {r["id"]: r for r in client.get("/api/runs").json()}
    assert runs[started["id"]]["status"] == "running" and runs[started["id"]]["launched"] is True

    assert client.post(f"/api/runs/{started['id']}/cancel", headers=AUTH_HEADER).json()["signalled"] == pid
    process = client.app.state.board.launcher.processes[output]
    assert process.wait(timeout=20) == -2  # SIGINT, the CLI's Ctrl-C path
    again = client.post(f"/api/runs/{started['id']}/cancel", headers=AUTH_HEADER)
    assert again.status_code == 409 and "already ended" in again.json()["detail"]


def test_resume_restarts_the_recorded_command_with_resume(board):
    client, root, tmp = board
    first = client.post("/api/runs", headers=AUTH_HEADER, json={
        "kind": "eval", "paths": [str(tmp / "tasks" / "t1")], "output": "ab", "k": 2, "conditions": ["none", "curated"]}).json()
    assert first["args"][:2] == ["eval", "run"] and first["args"][-4:] == ["--condition", "none", "--condition", "curated"]
    assert wait_for(lambda: (tmp / "argv.json").exists())
    busy = client.post(f"/api/runs/{first['id']}/resume", headers=AUTH_HEADER)
    assert busy.status_code == 409  # still running
    client.post(f"/api/runs/{first['id']}/cancel", headers=AUTH_HEADER)
    client.app.state.board.launcher.processes[root / "ab"].wait(timeout=20)
    client.app.state.board.expire_runs()
    assert {r["id"]: r for r in client.get("/api/runs").json()}[first["id"]]["resumable"] is True
    (tmp / "argv.json").unlink()
    (root / "ab" / EVAL_CONFIG).write_text("{}")  # what the real eval writes first
    restarted = make_client([root], allow_launch=True)  # a new dashboard: the record, not memory, is what resumes
    resumed = restarted.post(f"/api/runs/{first['id']}/resume", headers=AUTH_HEADER)
    assert resumed.status_code == 202
    assert wait_for(lambda: (tmp / "argv.json").exists())
    restarted.app.state.board.launcher.processes[root / "ab"].kill()
    assert json.loads((tmp / "argv.json").read_text()) == [*first["args"], "--resume"]


def _planted(root, args):
    """What an author with write access to a served folder leaves for the operator's Resume button."""
    (root / "planted").mkdir()
    (root / "planted" / EVAL_CONFIG).write_text("{}")  # listed as an eval run
    (root / "pwn.py").write_text("open('PWNED', 'w').write('imported')\nclass Env: pass\n")
    (root / "planted" / launch.LAUNCH_FILE).write_text(json.dumps({"args": args}))


def test_resume_refuses_a_planted_launch_record(board):
    client, root, tmp = board
    _planted(root, ["eval", "run", str(tmp / "tasks" / "t1"), "--output", str(root / "planted"),
                    "--env", "pwn:Env", "--condition", "none"])
    client.app.state.board.expire_runs()
    rid = run_id(root / "planted")
    assert {r["id"]: r for r in client.get("/api/runs").json()}[rid]["resumable"] is False  # no Resume button
    response = client.post(f"/api/runs/{rid}/resume", headers=AUTH_HEADER)
    assert response.status_code == 409 and "not a launch record this dashboard signed" in response.json()["detail"]
    assert client.app.state.board.launcher.processes == {}


def test_resume_refuses_an_edited_or_moved_record(board):
    client, root, tmp = board
    first = client.post("/api/runs", headers=AUTH_HEADER, json={
        "kind": "eval", "paths": [str(tmp / "tasks" / "t1")], "output": "ab", "conditions": ["none"]}).json()
    client.post(f"/api/runs/{first['id']}/cancel", headers=AUTH_HEADER)
    client.app.state.board.launcher.processes[root / "ab"].wait(timeout=20)
    record = json.loads((root / "ab" / launch.LAUNCH_FILE).read_text())
    (root / "other").mkdir()
    (root / "other" / EVAL_CONFIG).write_text("{}")
    (root / "other" / launch.LAUNCH_FILE).write_text(json.dumps(record))  # signed, but for another folder
    edited = record | {"request": record["request"] | {"conditions": ["library=/root"]}}
    (root / "ab" / launch.LAUNCH_FILE).write_text(json.dumps(edited))
    client.app.state.board.expire_runs()
    for name in ("ab", "other"):
        response = client.post(f"/api/runs/{run_id(root / name)}/resume", headers=AUTH_HEADER)
        assert response.status_code == 409, name


def test_a_launched_run_reads_no_module_or_env_file_from_a_served_folder(board):
    client, root, tmp = board
    (root / "json.py").write_text("open('PWNED', 'w').write('imported')\n")  # would shadow the stdlib's json
    response = client.post("/api/runs", headers=AUTH_HEADER, json={
        "kind": "explore", "paths": [str(tmp / "tasks" / "t1")], "output": "run"})
    assert response.status_code == 202
    assert wait_for(lambda: (tmp / "argv.json").exists())  # ran in the dashboard's directory, stdlib json
    assert not (root / "PWNED").exists() and not (tmp / "PWNED").exists()


def test_the_dashboard_only_signals_what_it_started(board):
    client, _, _ = board
    rid = run_id_of(client, "spark")
    response = client.post(f"/api/runs/{rid}/cancel", headers=AUTH_HEADER)
    assert response.status_code == 409 and "did not start" in response.json()["detail"]
    assert client.post(f"/api/runs/{rid}/resume", headers=AUTH_HEADER).status_code == 409


@pytest.mark.parametrize(("change", "message"), [
    ({"output": "/etc/skillspark"}, "outside the served folders"),
    ({"output": "../escape"}, "outside the served folders"),
    ({"paths": ["--help"]}, "may not start with '-'"),
    ({"model": "--api-base=http://evil"}, "may not start with '-'"),
    ({"paths": ["/no/such/task"]}, "no such task path"),
    ({"kind": "eval"}, "at least one condition"),
])
def test_launch_refuses_bad_requests(board, change, message):
    client, _, tmp = board
    body = {"kind": "explore", "paths": [str(tmp / "tasks" / "t1")], "output": "x"} | change
    response = client.post("/api/runs", headers=AUTH_HEADER, json=body)
    assert response.status_code == 400 and message in response.json()["detail"]
    assert client.app.state.board.launcher.processes == {}


def test_cancel_task_writes_the_request_for_an_explore_run_only(board):
    client, root, _ = board
    rid = run_id_of(client, "spark")
    assert client.post(f"/api/runs/{rid}/tasks/find-topk-similiar-chemicals/cancel", headers=AUTH_HEADER).status_code == 409
    (root / "spark" / "spend.json").write_text('{"spent_usd": 0}')
    client = make_client([root], allow_launch=True)
    rid = run_id_of(client, "explore")
    response = client.post(f"/api/runs/{rid}/tasks/find-topk-similiar-chemicals/cancel", headers=AUTH_HEADER)
    assert response.status_code == 202
    assert (root / "spark" / "find-topk-similiar-chemicals" / CANCEL_FILE).is_file()
    rows = {t["task"]: t for t in client.get(f"/api/runs/{rid}/tasks").json()["tasks"]}
    assert rows["find-topk-similiar-chemicals"]["cancel_requested"] is True
    assert rows["quantum-numerical-simulation"]["cancel_requested"] is False
    assert client.post(f"/api/runs/{rid}/tasks/no-such/cancel", headers=AUTH_HEADER).status_code == 404


async def test_explore_loop_stops_a_cancelled_task_cleanly_and_resume_continues_it(tmp_path, scripted_llm):
    from tests.dashboard.conftest import TrialWritingRunner

    class CancellingRunner(TrialWritingRunner):
        """Attempt 2 is when the user presses cancel: the request lands while it runs."""

        async def run(self, task_dir, *, attempt, extra_prompt, jobs_dir, **kw):
            if attempt == 1:
                (jobs_dir.parent / CANCEL_FILE).write_text("{}")
            return await super().run(task_dir, attempt=attempt, extra_prompt=extra_prompt, jobs_dir=jobs_dir, **kw)

    output = tmp_path / "out"
    for text in MEMOS[:2]:
        scripted_llm.push(text)
    explorer = await explore_run(output, scripted_llm, runner=CancellingRunner(pass_at=3), resume=True)
    task = output / "sum-task"
    state = json.loads((task / "attempts.json").read_text())
    assert state["state"] == "cancelled" and len(state["attempts"]) == 2  # the attempt in flight finished and counts
    assert "--resume continues it" in state["reason"]
    assert not (task / CANCEL_FILE).exists()  # taken, so the resume is not cancelled again
    summary = json.loads((task / "trajectory.jsonl").read_text().splitlines()[-1])
    assert summary["type"] == "task_summary" and summary["state"] == "cancelled"
    assert explorer.summary().state == "cancelled"

    scripted_llm.push(MEMOS[2])
    scripted_llm.push(SKILL)
    resumed = await explore_run(output, scripted_llm, runner=TrialWritingRunner(pass_at=3), resume=True)
    assert resumed.summary().state == "solved"
    assert resumed.summary().status_trajectory == ["FAIL", "FAIL", "FAIL", "PASS"]
    attempts = [json.loads(line)["attempt"] for line in (task / "trajectory.jsonl").read_text().splitlines()
                if json.loads(line)["type"] == "execution_result"]
    assert attempts == [0, 1, 2, 3]  # nothing repeated, nothing lost


def test_runs_launched_here_show_before_their_first_line(board):
    client, root, tmp = board
    started = client.post("/api/runs", headers=AUTH_HEADER, json={
        "kind": "explore", "paths": [str(tmp / "tasks" / "t1")], "output": "fresh"}).json()
    ids = [r["id"] for r in client.get("/api/runs").json()]
    assert started["id"] in ids and (root / "fresh").is_dir()
